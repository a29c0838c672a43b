import { AbortedError, abortCause, EnvironmentError, errorMessage, FatalError } from "./errors.js";
import { assertNever, type LoopEvent, type RunStatus, type StopReason } from "./events.js";
import { createRunContext, type LoopDeps, type RunContext, type StepOutcome } from "./run-context.js";
import { iterationsRun, type RunState, type Step } from "./state.js";
import { applyStep } from "./steps/apply.js";
import { generateStep } from "./steps/generate.js";
import { validateStep } from "./steps/judge.js";
import { readStep } from "./steps/read.js";
import type { RoundResult, VerdictRecord } from "./steps/records.js";
import { deliverStep, patchAtEnd, snapshotStep } from "./steps/source.js";

export type { LoopDeps, RoundResult, VerdictRecord };

export interface LoopOutcome {
  state: RunState;
  /** The fatal error that ended the run, when it ended as "error". */
  error: Error | null;
}

/** One step of the run; each names the next in run.json, or ends the run. */
function runStep(ctx: RunContext, step: Step, n: number): Promise<StepOutcome> {
  switch (step) {
    case "snapshot":
      return snapshotStep(ctx);
    case "generate":
      return generateStep(ctx, n);
    case "read":
      return readStep(ctx, n);
    case "apply":
      return applyStep(ctx, n);
    case "execute":
      return ctx.rounds.execute(n, ctx.signal).then(() => undefined);
    case "check":
      return ctx.rounds.check(n, ctx.signal).then(() => undefined);
    case "validate":
      return validateStep(ctx, n);
    case "deliver":
      return deliverStep(ctx, n);
    case "done":
      return Promise.resolve({ stop: "passed", reason: ctx.state.reason ?? "passed" });
    default:
      return assertNever(step);
  }
}

/**
 * The product loop: (snapshot →) generate → (apply → build and run → validate)* until passed
 * or a limit; an answer may ask to read files first. It is resumable: run.json's progress names
 * the next step, and every step's input is read from the run folder, so a run stopped at any
 * point continues where it stopped.
 */
export async function runLoop(state: RunState, deps: LoopDeps, signal: AbortSignal): Promise<LoopOutcome> {
  const resumed = state.legs.length > 0;
  state.legs.push({ startedAt: new Date().toISOString(), endedAt: null, status: "running", ...deps.legInfo });
  Object.assign(state, { status: "running", stopReason: null, reason: null });
  // One signal for everything in flight: the caller's (Ctrl-C) or the time budget's.
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason ?? new AbortedError("interrupted"));
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  const { maxTimeMs } = state.options.budgets;
  const timer =
    maxTimeMs === null
      ? undefined
      : setTimeout(
          () => controller.abort(new AbortedError("max-time")),
          Math.max(0, maxTimeMs - state.elapsedMs),
        );
  timer?.unref?.();
  const ctx = createRunContext(state, deps, controller.signal);
  try {
    const { iteration, maxIterations, model } = { ...state.progress, ...state.options };
    ctx.emit({
      type: "run.started",
      runId: state.runId,
      runDir: deps.store.dir,
      resumed,
      iteration,
      maxIterations,
      model,
    });
    ctx.save();
    // A leg killed before it could clean up (kill -9) may have left a container running.
    if (resumed) await deps.sandbox.cleanup();
    for (;;) {
      if (ctx.signal.aborted) throw new AbortedError(abortCause(ctx.signal));
      const { step, iteration } = state.progress;
      // A budget stops the run before more is spent; a run that has passed is handed back all the same.
      const spent = step === "deliver" || step === "done" ? null : ctx.budgetReached();
      const ended = spent ?? (await runStep(ctx, step, iteration));
      if (ended) return await finish(ctx, ended.stop, ended.reason);
    }
  } catch (error) {
    if (error instanceof AbortedError || ctx.signal.aborted) {
      const timeUp = (error instanceof AbortedError ? error.why : abortCause(ctx.signal)) === "max-time";
      return await finish(
        ctx,
        timeUp ? "max-time" : "interrupted",
        timeUp ? `time budget reached: ${Math.round((maxTimeMs ?? 0) / 1000)} s` : "interrupted by the user",
      );
    }
    const err = asFatal(error);
    if (!(err instanceof FatalError)) {
      try {
        ctx.emit({ type: "warning", message: `internal error: ${err.stack ?? err.message}` });
      } catch {
        // The journal itself failed; finish() reports what it can.
      }
    }
    return await finish(
      ctx,
      "error",
      err instanceof FatalError ? err.message : `unexpected error: ${err.message}`,
      err,
    );
  } finally {
    if (timer) clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

function statusFor(stop: StopReason): Exclude<RunStatus, "running"> {
  if (stop === "passed" || stop === "interrupted" || stop === "error") return stop;
  return "failed";
}

/** Ends the leg: containers removed, the patch of a run that did not pass written, run.json closed. */
async function finish(
  ctx: RunContext,
  stop: StopReason,
  reason: string,
  error: Error | null = null,
): Promise<LoopOutcome> {
  const { state, deps } = ctx;
  const report = (event: LoopEvent) => deps.report(event);
  try {
    await deps.sandbox.cleanup();
  } catch (cleanupError) {
    // The engine may be what failed: the run's end is recorded all the same, and the
    // labelled leftovers are removed by the next resume's cleanup.
    report({ type: "warning", message: `could not clean up: ${errorMessage(cleanupError)}` });
  }
  if (stop !== "passed") {
    try {
      await patchAtEnd(ctx);
    } catch (patchError) {
      report({ type: "warning", message: `could not write changes.patch: ${errorMessage(patchError)}` });
    }
  }
  const status = statusFor(stop);
  Object.assign(state, { status, stopReason: stop, reason });
  if (stop === "passed") state.progress = { ...state.progress, step: "done" };
  const leg = state.legs.at(-1);
  if (leg) Object.assign(leg, { endedAt: new Date().toISOString(), status });
  const { usage, costUsd, image } = state;
  const finished = { type: "run.finished", status, stopReason: stop, reason, usage, costUsd, image } as const;
  const iterations = iterationsRun(state);
  try {
    ctx.save();
    ctx.emit({ ...finished, iterations, durationMs: state.elapsedMs });
  } catch (writeError) {
    // The disk is full or gone: the record keeps its last good state (both files are
    // written safely), and the user still hears how the run ended.
    report({ type: "warning", message: `could not record the end of the run: ${errorMessage(writeError)}` });
    report({ ...finished, iterations, durationMs: state.elapsedMs });
    return { state, error: error ?? asFatal(writeError) };
  }
  return { state, error };
}

const FILE_SYSTEM_CODES = new Set([
  "ENOSPC",
  "EDQUOT",
  "EACCES",
  "EPERM",
  "EROFS",
  "EMFILE",
  "ENFILE",
  "EIO",
]);

/** A failure of the disk under the run folder is the environment's, not a bug: say so. */
function asFatal(error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (!(error instanceof FatalError) && code && FILE_SYSTEM_CODES.has(code)) {
    return new EnvironmentError(
      `cannot write the run folder: ${errorMessage(error)}`,
      "free disk space or fix the folder's permissions, then `azlon resume` the run",
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
