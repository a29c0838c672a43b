import type Docker from "dockerode";
import { AbortedError, abortCause } from "../core/errors.js";
import type {
  BoundedText,
  CheckResult,
  ChecksReport,
  ExecResult,
  LogTarget,
  ServiceRequest,
} from "../core/types.js";
import { onAbort, sleep } from "../util/abort.js";
import { formatDuration } from "../util/format.js";
import type { Redactor } from "../util/secrets.js";
import { notRun, toCheck } from "./check-results.js";
import type { ContainerRunner } from "./container.js";
import { connectionLost, describeDockerError } from "./docker-errors.js";

/** Time between two polls of a service's readiness command. */
const READY_POLL_MS = 500;
/** The longest one readiness poll may take before it counts as "not yet". */
const READY_ATTEMPT_MS = 10_000;
/** How long to wait for the last of a service's output once it has been stopped. */
export const SERVICE_DRAIN_MS = 2000;
/** A service has no time limit of its own: it runs until its checks are done. */
const SERVICE_RUN_LIMIT_MS = 24 * 3600_000;
/** How long a killed service may take to stop before the engine counts as failed. */
const SERVICE_STOP_MS = SERVICE_DRAIN_MS + 10_000;

/** What a command run beside the service did. */
export interface BesideResult {
  exitCode: number | null;
  timedOut: boolean;
  output: BoundedText;
  durationMs: number;
}

/** Runs a command where it reaches the service on localhost: inside it, or in a fresh container beside it. */
export type RunBeside = (
  command: string,
  log: LogTarget | null,
  timeoutMs: number,
  signal: AbortSignal,
) => Promise<BesideResult>;

/** Runs a check beside the service; a string says why it could not be put in place (a failed check). */
export type CheckBeside = (
  command: string,
  log: LogTarget | null,
  timeoutMs: number,
  signal: AbortSignal,
) => Promise<BesideResult | string>;

/** How long a service's container lives at most: the wait for readiness, every check, and its stop. */
export function serviceLifeMs(request: ServiceRequest): number {
  return request.readyTimeoutMs + request.checks.commands.length * request.checks.timeoutMs + SERVICE_STOP_MS;
}

/** The service's container, its deadline label (how long another azlon leaves it alone) covering its whole life. */
export async function createService(
  runner: ContainerRunner,
  image: string,
  request: ServiceRequest,
): Promise<Docker.Container> {
  try {
    return await runner.create({ image, timeoutMs: serviceLifeMs(request) });
  } catch (error) {
    throw connectionLost(error);
  }
}

/**
 * The program as a service: started in the background, its readiness command polled, then every
 * check run beside it. A service that exits or never becomes ready is a result, not an error.
 * The caller made the container (and removes it should this throw before it is started).
 */
export async function serveAndCheck(
  runner: ContainerRunner,
  container: Docker.Container,
  request: ServiceRequest,
  log: LogTarget,
  beside: CheckBeside,
  signal: AbortSignal,
  how: {
    /** Polls the readiness command (default: as the checks run). */
    ready?: RunBeside;
    /** Why no check may run (the shell is not the base image's): the checks fail, saying so. */
    refused?: string | null;
    /** Masks what the service prints (secrets, and held-out checks' lines it could read). */
    redactor?: Redactor;
  } = {},
): Promise<{ exec: ExecResult; checks: ChecksReport }> {
  const stop = new AbortController();
  let stoppedByAzlon = false;
  const programSignal = AbortSignal.any([signal, stop.signal]);
  // The service's own run: it ends when it exits, or when it is stopped after its checks.
  const program = runner.run(
    container,
    log,
    {
      timeoutMs: SERVICE_RUN_LIMIT_MS,
      subject: "service",
      limit: "its time limit",
      stoppedByAzlon: () => stoppedByAzlon,
    },
    programSignal,
    how.redactor,
  );
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
    const poll: RunBeside =
      how.ready ??
      (async (...args) => {
        const ran = await beside(...args);
        if (typeof ran === "string") throw new Error(ran);
        return ran;
      });
    service = await waitReady(container, request, poll, signal, () => exited);
    service.durationMs = Math.round(performance.now() - started);
    if (service.ready && how.refused) {
      results.push(...notRun(request.checks.commands, how.refused));
    } else if (service.ready) {
      for (const [index, command] of request.checks.commands.entries()) {
        const ran = await beside(command, request.checks.log(index), request.checks.timeoutMs, signal);
        if (typeof ran === "string") results.push(...notRun([command], ran));
        else results.push(toCheck(command, ran, request.checks.timeoutMs));
      }
    } else {
      results.push(...notRun(request.checks.commands, "not run: the service was not ready"));
    }
  } catch (error) {
    stop.abort(new AbortedError(abortCause(signal)));
    await program.catch(() => {});
    await runner.remove(container);
    if (error instanceof AbortedError) throw error;
    throw connectionLost(error);
  }
  // Stop the service: kill it, and let the runner collect its output and exit status.
  const wasRunning = !exited;
  if (wasRunning) {
    stoppedByAzlon = true;
    await container.kill().catch(() => {});
  }
  let exec: ExecResult;
  try {
    const settle = sleep(SERVICE_STOP_MS);
    const ended = await Promise.race([program, settle.promise]);
    settle.cancel();
    if (ended === "timeout") throw new Error("the service did not stop after it was killed");
    // Stopped by azlon, a service has no exit code of its own.
    exec = wasRunning ? { ...ended, exitCode: null, signal: null } : ended;
  } catch (error) {
    if (error instanceof AbortedError) throw error;
    throw connectionLost(error);
  } finally {
    await runner.remove(container);
  }
  return { exec, checks: { service, results } };
}

/** Polls the readiness command until it exits 0, the service exits, or the time is up. */
async function waitReady(
  container: Docker.Container,
  request: ServiceRequest,
  beside: RunBeside,
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
      const poll = await beside(
        request.ready,
        null,
        Math.min(READY_ATTEMPT_MS, Math.max(1000, left)),
        signal,
      );
      if (poll.exitCode === 0) return { ready: true, problem: null, durationMs: 0 };
      last = poll.output.text.replace(/\s+/g, " ").trim().slice(0, 300);
    } catch (error) {
      if (error instanceof AbortedError) throw error;
      // The service stopped between the check and the poll (its run may not have noticed yet):
      // the next turn sees it exited.
      if (exited()) continue;
      const info = await container.inspect().catch(() => null);
      if (info && !info.State?.Running) {
        const code = info.State?.ExitCode;
        return {
          ready: false,
          problem: `the service exited${typeof code === "number" ? ` with ${code}` : ""} before it was ready`,
          durationMs: 0,
        };
      }
      throw new Error(`the readiness check could not run: ${describeDockerError(error)}`);
    }
  }
}
