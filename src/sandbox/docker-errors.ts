import { DockerUnavailableError } from "../core/errors.js";

/** The engine's message of a failed call, without dockerode's "(HTTP code N)" prefix. */
export function describeDockerError(error: unknown): string {
  const err = error as { json?: { message?: string }; message?: string; reason?: string };
  const message = err?.json?.message ?? err?.message ?? String(error);
  // docker-modem's "(HTTP code 400) unexpected - <the engine's words>": the engine's words.
  const status = /^\(HTTP code \d+\)\s*/.exec(message);
  if (!status) return message.trim();
  const rest = message.slice(status[0].length);
  const word = `${err.reason ?? "unexpected"} - `;
  return (rest.startsWith(word) ? rest.slice(word.length) : rest).trim();
}

/** Whether the engine answered the call with an error (rather than going away). */
export function engineAnswered(error: unknown): boolean {
  return typeof (error as { statusCode?: number } | null)?.statusCode === "number";
}

/** The engine went away (or failed) mid-run: an environment failure, exit 3. */
export function connectionLost(error: unknown): DockerUnavailableError {
  return new DockerUnavailableError(
    `the Docker engine failed: ${describeDockerError(error)}`,
    "check `docker info`; then `azlon resume` the run",
  );
}
