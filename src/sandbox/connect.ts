import Docker from "dockerode";
import { connectionError, type DockerTarget } from "./connection.js";
import { type EngineInfo, engineInfoOf } from "./engine-info.js";

/** Connects and pings, so that an engine that is down fails in seconds, naming the address. */
export async function connectDocker(
  target: DockerTarget,
  timeoutMs = 5000,
): Promise<{ docker: Docker; version: string; apiVersion: string; info: EngineInfo }> {
  const docker = new Docker(target.options);
  try {
    // dockerode accepts abortSignal on these calls; its type definitions lag behind.
    const withSignal = (call: (opts: object) => Promise<unknown>) =>
      call({ abortSignal: AbortSignal.timeout(timeoutMs) });
    await withSignal((opts) =>
      (docker.ping as unknown as (o: object) => Promise<unknown>).call(docker, opts),
    );
    const version = (await withSignal((opts) =>
      (docker.version as unknown as (o: object) => Promise<unknown>).call(docker, opts),
    )) as { Version: string; ApiVersion: string };
    return { docker, version: version.Version, apiVersion: version.ApiVersion, info: engineInfoOf(version) };
  } catch (error) {
    const err = error as { name?: string; code?: string; statusCode?: number };
    if (err?.name === "AbortError" || err?.name === "TimeoutError")
      throw connectionError(target, { code: "ETIMEDOUT" });
    if (err?.statusCode === 403) throw connectionError(target, { code: "EACCES" });
    throw connectionError(target, error);
  }
}
