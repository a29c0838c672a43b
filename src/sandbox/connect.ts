import Docker from "dockerode";
import { connectionError, type DockerTarget } from "./connection.js";
import { type EngineInfo, engineInfoOf } from "./engine-info.js";

/** How long an engine that answered its ping may take to say what it is. */
const VERSION_TIMEOUT_MS = 60_000;

/** Connects and pings, so that an engine that is down fails in seconds, naming the address. */
export async function connectDocker(
  target: DockerTarget,
  timeoutMs = 5000,
): Promise<{ docker: Docker; version: string; apiVersion: string; info: EngineInfo }> {
  const docker = new Docker(target.options);
  try {
    // dockerode accepts abortSignal on these calls; its type definitions lag behind.
    const withSignal = (call: (opts: object) => Promise<unknown>, ms = timeoutMs) =>
      call({ abortSignal: AbortSignal.timeout(ms) });
    await withSignal((opts) =>
      (docker.ping as unknown as (o: object) => Promise<unknown>).call(docker, opts),
    );
    // An engine that answered the ping is there: its /version may take longer (Podman's takes
    // seconds on a busy machine), and failing on that would fail a working engine.
    const version = (await withSignal(
      (opts) => (docker.version as unknown as (o: object) => Promise<unknown>).call(docker, opts),
      VERSION_TIMEOUT_MS,
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
