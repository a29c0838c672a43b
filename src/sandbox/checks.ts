import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { pack } from "tar-fs";
import { AbortedError, abortCause } from "../core/errors.js";
import {
  type BoundedText,
  CHECKS_MOUNT,
  type CheckRequest,
  type CheckResult,
  type ChecksReport,
  type ExecResult,
  type LogTarget,
  type ServiceRequest,
} from "../core/types.js";
import { formatDuration } from "../util/format.js";
import { FrameDemuxer } from "./demux.js";
import type { DockerSandbox } from "./docker-sandbox.js";
import { connectionLost, describeDockerError, onAbort, sleep } from "./docker-sandbox.js";

/** Time between two polls of a service's readiness command. */
const READY_POLL_MS = 500;
/** The longest one readiness poll may take before it counts as "not yet". */
const READY_ATTEMPT_MS = 10_000;
/** How long to wait for the last of a service's output once it has been stopped. */
const SERVICE_DRAIN_MS = 2000;

/** A check's exit code in words: what a user needs to tell a failing test from a broken one. */
export function checkProblem(exitCode: number | null, timedOut: boolean, timeoutMs: number): string | null {
  if (timedOut) return `timed out after ${formatDuration(timeoutMs)}`;
  if (exitCode === 0) return null;
  if (exitCode === 127) return "command not found (exit 127)";
  if (exitCode === 126) return "command not executable (exit 126)";
  if (exitCode === 137) return "killed (exit 137: out of memory or a signal)";
  return exitCode === null ? "no exit code" : `exit ${exitCode}`;
}

function toCheck(
  command: string,
  exec: Pick<ExecResult, "exitCode" | "timedOut" | "output" | "durationMs">,
  timeoutMs: number,
): CheckResult {
  const problem = checkProblem(exec.exitCode, exec.timedOut, timeoutMs);
  return {
    command,
    exitCode: exec.exitCode,
    timedOut: exec.timedOut,
    passed: problem === null,
    problem,
    output: exec.output,
    durationMs: exec.durationMs,
  };
}

/**
 * Copies the user's checks folder to /azlon/checks in a container, through the engine's API
 * (the engine may be remote), into the fresh volume mounted there: whatever the image holds at
 * that path is hidden, so the model can neither replace a check nor add a file beside it.
 */
async function copyChecks(container: Docker.Container, dir: string): Promise<void> {
  const tar = pack(dir, {
    map: (header) => {
      header.name = `${CHECKS_MOUNT.slice(1)}/${header.name}`;
      // Readable by whatever user the image runs as.
      header.uid = 0;
      header.gid = 0;
      header.mode = header.type === "directory" ? 0o755 : (header.mode ?? 0o644) | 0o444;
      return header;
    },
  });
  await container.putArchive(tar as unknown as NodeJS.ReadableStream, { path: "/" });
}

/** Runs each check with `sh -c` in a fresh container of the built image, one after another. */
export async function runChecks(
  sandbox: DockerSandbox,
  request: CheckRequest,
  signal: AbortSignal,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [index, command] of request.commands.entries()) {
    if (signal.aborted) throw new AbortedError(abortCause(signal));
    let container: Docker.Container;
    try {
      container = await sandbox.createContainer({
        entrypoint: ["sh", "-c"],
        cmd: [command],
        timeoutMs: request.timeoutMs,
        checksFolder: request.checksDir !== null,
      });
    } catch (error) {
      throw connectionLost(error);
    }
    try {
      if (request.checksDir) await copyChecks(container, request.checksDir);
      const exec = await sandbox.runContainer(
        container,
        request.log(index),
        { timeoutMs: request.timeoutMs, subject: "check", limit: "the check time limit" },
        signal,
      );
      results.push(toCheck(command, exec, request.timeoutMs));
    } catch (error) {
      if (error instanceof AbortedError) throw error;
      throw connectionLost(error);
    } finally {
      await sandbox.removeContainer(container);
    }
  }
  return results;
}

/** Runs a command inside a running container and collects its exit code and bounded output. */
async function execIn(
  sandbox: DockerSandbox,
  container: Docker.Container,
  command: string,
  log: LogTarget | null,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ exitCode: number | null; timedOut: boolean; output: BoundedText; durationMs: number }> {
  const started = performance.now();
  const capture = sandbox.capture(log?.path ?? null);
  const exec = await container.exec({
    Cmd: ["sh", "-c", command],
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: false,
    Tty: false,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Readable;
  const demux = new FrameDemuxer(capture.writable());
  const ended = new Promise<void>((resolve) => {
    demux.on("finish", resolve);
    demux.on("error", () => resolve());
    stream.on("error", () => resolve());
    stream.on("close", () => resolve());
  });
  stream.pipe(demux);
  const aborted = onAbort(signal);
  const deadline = sleep(timeoutMs);
  try {
    const first = await Promise.race([ended.then(() => "ended" as const), deadline.promise, aborted.promise]);
    const timedOut = first === "timeout";
    stream.unpipe(demux);
    stream.destroy();
    // The process may go on after a time-out (the engine cannot kill an exec); the container
    // is killed and removed when the service stops.
    let exitCode: number | null = null;
    if (!timedOut) {
      for (let i = 0; i < 20; i++) {
        const info = await exec.inspect();
        if (!info.Running) {
          exitCode = info.ExitCode ?? null;
          break;
        }
        await sleep(50).promise;
      }
    } else {
      await capture.writeText(
        `\n[azlon: the check was still running after ${formatDuration(timeoutMs)}, the check time limit, and was abandoned]\n`,
      );
    }
    return {
      exitCode,
      timedOut,
      output: await capture.finish(),
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    deadline.cancel();
    aborted.dispose();
  }
}

/**
 * The program as a service: started in the background, its readiness command polled inside its
 * container, then every check run inside that same container (so a check reaches the service
 * on localhost with no network). A service that exits or never becomes ready is a result.
 */
export async function runService(
  sandbox: DockerSandbox,
  request: ServiceRequest,
  log: LogTarget,
  signal: AbortSignal,
): Promise<{ exec: ExecResult; checks: ChecksReport }> {
  let container: Docker.Container;
  try {
    // Its deadline label (how long another azlon leaves it alone) covers the whole of its
    // life: the wait for readiness, every check, and the stop after them.
    const lifeMs =
      request.readyTimeoutMs +
      request.checks.commands.length * request.checks.timeoutMs +
      SERVICE_DRAIN_MS +
      10_000;
    container = await sandbox.createContainer({
      checksFolder: request.checks.checksDir !== null,
      timeoutMs: lifeMs,
    });
    if (request.checks.checksDir) await copyChecks(container, request.checks.checksDir);
  } catch (error) {
    throw connectionLost(error);
  }
  const stop = new AbortController();
  let stoppedByAzlon = false;
  const programSignal = AbortSignal.any([signal, stop.signal]);
  // The service's own run: it ends when it exits, or when it is stopped after its checks.
  const program = sandbox.runContainer(
    container,
    log,
    {
      timeoutMs: 24 * 3600_000,
      subject: "service",
      limit: "its time limit",
      stoppedByAzlon: () => stoppedByAzlon,
    },
    programSignal,
  );
  program.catch(() => {});
  let exited = false;
  program.then(
    () => {
      exited = true;
    },
    () => {
      exited = true;
    },
  );
  const results: CheckResult[] = [];
  let service: ChecksReport["service"];
  try {
    const started = performance.now();
    service = await waitReady(sandbox, container, request, signal, () => exited);
    service.durationMs = Math.round(performance.now() - started);
    if (service.ready) {
      for (const [index, command] of request.checks.commands.entries()) {
        const ran = await execIn(
          sandbox,
          container,
          command,
          request.checks.log(index),
          request.checks.timeoutMs,
          signal,
        );
        results.push(toCheck(command, ran, request.checks.timeoutMs));
      }
    } else {
      for (const command of request.checks.commands) {
        results.push({
          command,
          exitCode: null,
          timedOut: false,
          passed: false,
          problem: "not run: the service was not ready",
          output: { text: "", totalBytes: 0, truncated: false },
          durationMs: 0,
        });
      }
    }
  } catch (error) {
    stop.abort(new AbortedError(abortCause(signal)));
    await program.catch(() => {});
    await sandbox.removeContainer(container);
    if (error instanceof AbortedError) throw error;
    throw connectionLost(error);
  }
  // Stop the service: kill it, and let runContainer collect its output and exit status.
  const wasRunning = !exited;
  if (wasRunning) {
    stoppedByAzlon = true;
    await container.kill().catch(() => {});
  }
  let exec: ExecResult;
  try {
    const settle = sleep(SERVICE_DRAIN_MS + 10_000);
    const ended = await Promise.race([program, settle.promise]);
    settle.cancel();
    if (ended === "timeout") throw new Error("the service did not stop after it was killed");
    // Stopped by azlon, a service has no exit code of its own.
    exec = wasRunning ? { ...ended, exitCode: null, signal: null } : ended;
  } catch (error) {
    if (error instanceof AbortedError) throw error;
    throw connectionLost(error);
  } finally {
    await sandbox.removeContainer(container);
  }
  return { exec, checks: { service, results } };
}

/** Polls the readiness command until it exits 0, the service exits, or the time is up. */
async function waitReady(
  sandbox: DockerSandbox,
  container: Docker.Container,
  request: ServiceRequest,
  signal: AbortSignal,
  exited: () => boolean,
): Promise<NonNullable<ChecksReport["service"]>> {
  const deadline = performance.now() + request.readyTimeoutMs;
  let last = "";
  for (;;) {
    if (signal.aborted) throw new AbortedError(abortCause(signal));
    // Give the service a moment to start (or to fail) before the first poll. The abort
    // listener goes each turn: a minute of polls must not pile up listeners on the signal.
    const pause = sleep(READY_POLL_MS);
    const aborted = onAbort(signal);
    try {
      await Promise.race([pause.promise, aborted.promise]);
    } finally {
      pause.cancel();
      aborted.dispose();
    }
    if (exited()) {
      const info = await container.inspect().catch(() => null);
      const code = info?.State?.ExitCode;
      return {
        ready: false,
        problem: `the service exited${typeof code === "number" ? ` with ${code}` : ""} before it was ready`,
        durationMs: 0,
      };
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      return {
        ready: false,
        problem: `not ready after ${formatDuration(request.readyTimeoutMs)}: \`${request.ready}\` never exited 0${
          last ? ` (its last output: ${last})` : ""
        }`,
        durationMs: 0,
      };
    }
    try {
      const poll = await execIn(
        sandbox,
        container,
        request.ready,
        null,
        Math.min(READY_ATTEMPT_MS, Math.max(1000, left)),
        signal,
      );
      if (poll.exitCode === 0) return { ready: true, problem: null, durationMs: 0 };
      last = poll.output.text.replace(/\s+/g, " ").trim().slice(0, 300);
    } catch (error) {
      if (error instanceof AbortedError) throw error;
      // The container stopped between the check and the exec: the next turn sees it exited.
      if (exited()) continue;
      throw new Error(`the readiness check could not run: ${describeDockerError(error)}`);
    }
  }
}
