import Docker from "dockerode";
import { type DockerTarget, resolveDockerTarget } from "../../src/sandbox/connection.js";

/** The variables the CLI reads to find the engine: the tests pass them on to every CLI they spawn. */
export const ENGINE_ENV = [
  "DOCKER_HOST",
  "DOCKER_CONTEXT",
  "DOCKER_CONFIG",
  "DOCKER_TLS_VERIFY",
  "DOCKER_CERT_PATH",
  "SSH_AUTH_SOCK",
] as const;

/**
 * The engine the tests check and clean up: found exactly as the CLI finds it (DOCKER_HOST,
 * then the current Docker context, then the usual sockets), so the tests never probe one
 * engine while the CLI they spawn uses another.
 */
export function engineTarget(env: Record<string, string | undefined>): {
  target: DockerTarget;
  docker: Docker;
} {
  const target = resolveDockerTarget({ env, home: env.HOME ?? "/" });
  return { target, docker: new Docker(target.options) };
}
