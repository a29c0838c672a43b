import { cutEcho, REASON_CHARS } from "../util/echo.js";
import { normalizeChanges, type RawChanges, type ReplyLimits } from "../workspace/paths.js";
import { CostMeter } from "./cost-meter.js";
import {
  AbortedError,
  abortCause,
  EnvironmentError,
  errorMessage,
  FatalError,
  RunStateError,
} from "./errors.js";
import type { EventSink, LoopEvent, RunStatus, StopReason } from "./events.js";
import { checksOf, iterationsRun, type RunState, summaryFor, verdictOf } from "./state.js";
import { roundSteps } from "./steps/execute.js";
import { boundQuotes, changedIn, refusalReason, roundMemory } from "./steps/memory.js";
import { nextLayout } from "./steps/prompt-layout.js";
import {
  CHECKS_FILE,
  RESULT_FILE,
  type RoundResult,
  VERDICT_FILE,
  type VerdictRecord,
} from "./steps/records.js";
import { decide } from "./steps/validate.js";
import type { RunStore } from "./store.js";
import {
  addUsage,
  type ChecksReport,
  type CheckView,
  type Generation,
  type Model,
  type ModelContext,
  type PromptLayout,
  type Sandbox,
  zeroUsage,
} from "./types.js";

export type { RoundResult, VerdictRecord };

/** The loop's collaborators; it constructs none of them. */
export interface LoopDeps {
  model: Model;
  sandbox: Sandbox;
  store: RunStore;
  /** The reporter: how events look to the user. The journal is written by the loop itself. */
  report: EventSink;
  /** Milliseconds, monotonic enough for durations. */
  now: () => number;
  /** Recorded on the leg, so `resume` can tell a live run from a killed one. */
  legInfo?: { pid: number; host: string; start?: string | null };
  /** The user's checks as the model is shown them (read from the checks folder), if any. */
  checks?: CheckView | null;
}

export interface LoopOutcome {
  state: RunState;
  /** The fatal error that ended the run, when it ended as "error". */
  error: Error | null;
}

function statusFor(stop: StopReason): Exclude<RunStatus, "running"> {
  if (stop === "passed") return "passed";
  if (stop === "interrupted") return "interrupted";
  if (stop === "error") return "error";
  return "failed";
}

/**
 * The product loop: generate → (apply → build and run → validate)* until passed or a limit.
 * It is resumable: run.json's progress names the next step, and every step's input is read
 * from the run folder, so a run stopped at any point continues where it stopped.
 */
export async function runLoop(state: RunState, deps: LoopDeps, signal: AbortSignal): Promise<LoopOutcome> {
  const { model, sandbox, store, report, now } = deps;
  const options = state.options;
  const replyLimits: ReplyLimits = {
    maxFiles: options.maxFiles,
    maxFileBytes: options.maxFileBytes,
    maxPathLength: options.maxPathLength,
  };
  const legStart = now();
  const elapsedBefore = state.elapsedMs;
  const resumed = state.legs.length > 0;
  state.legs.push({ startedAt: new Date().toISOString(), endedAt: null, status: "running", ...deps.legInfo });
  state.status = "running";
  state.stopReason = null;
  state.reason = null;

  // One signal for everything in flight: the caller's (Ctrl-C) or the time budget's.
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason ?? new AbortedError("interrupted"));
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  if (options.budgets.maxTimeMs !== null) {
    const remaining = Math.max(0, options.budgets.maxTimeMs - elapsedBefore);
    timer = setTimeout(() => controller.abort(new AbortedError("max-time")), remaining);
    timer.unref?.();
  }
  const inner = controller.signal;

  let saveAfterEmit = false;
  const meter = new CostMeter(state);
  const emit = (event: LoopEvent): void => {
    let notice: string | null = null;
    if (event.type === "model.call") {
      state.usage = addUsage(state.usage, event.usage);
      const round = summaryFor(state, event.iteration);
      round.usage = addUsage(round.usage ?? zeroUsage(), event.usage);
      saveAfterEmit = true;
      notice = meter.add(event.usage, event.servedModel);
    }
    store.record(event);
    report(event);
    // Tokens are spent: run.json knows at once, so a kill -9 does not undercount the budget.
    if (saveAfterEmit) {
      saveAfterEmit = false;
      save();
    }
    if (notice) emit({ type: "warning", message: notice });
    if (event.type === "model.call") meter.check();
  };
  const save = (): void => {
    // Whole milliseconds: run.json and the --json result are read by people and scripts.
    state.elapsedMs = Math.round(elapsedBefore + (now() - legStart));
    state.updatedAt = new Date().toISOString();
    store.saveState(state);
  };
  let pending: { iteration: number; changes: RawChanges } | null = null;
  const ctx = (iteration: number): ModelContext => ({ signal: inner, iteration, emit });
  const verdictMode = verdictOf(options);
  const checkView = deps.checks ?? null;
  const rounds = roundSteps({ state, store, sandbox, emit, save });
  // How the judge's requests show the project, kept so that each repeats the one before.
  // Not kept across a resume: the first request after one lays the project out afresh.
  let layout: PromptLayout | undefined;

  const budgetReached = (): { stop: StopReason; reason: string } | null => {
    const { maxTokens, maxCostUsd } = options.budgets;
    const used = state.usage.promptTokens + state.usage.completionTokens;
    if (maxTokens !== null && used >= maxTokens) {
      return { stop: "max-tokens", reason: `token budget reached: ${used} tokens used of ${maxTokens}` };
    }
    // A call served by a model without a price made the cost unknown: a cost budget cannot be
    // kept (the leg that made the call stopped there; a resumed one stops before any call).
    if (maxCostUsd !== null && state.costUsd === null) {
      return {
        stop: "max-cost",
        reason: `cost budget cannot be kept: the run's cost is unknown (a call was served by a model azlon has no price for)`,
      };
    }
    if (maxCostUsd !== null && state.costUsd !== null && state.costUsd >= maxCostUsd) {
      return {
        stop: "max-cost",
        reason: `cost budget reached: $${state.costUsd.toFixed(4)} spent of $${maxCostUsd}`,
      };
    }
    return null;
  };

  const finish = async (
    stop: StopReason,
    reason: string,
    error: Error | null = null,
  ): Promise<LoopOutcome> => {
    try {
      await sandbox.cleanup();
    } catch (cleanupError) {
      // The engine may be what failed: the run's end is recorded all the same, and the
      // labelled leftovers are removed by the next resume's cleanup.
      report({ type: "warning", message: `could not clean up: ${errorMessage(cleanupError)}` });
    }
    const status = statusFor(stop);
    state.status = status;
    state.stopReason = stop;
    state.reason = reason;
    if (stop === "passed") state.progress = { ...state.progress, step: "done" };
    const leg = state.legs[state.legs.length - 1];
    if (leg) {
      leg.endedAt = new Date().toISOString();
      leg.status = status;
    }
    const finished: LoopEvent = {
      type: "run.finished",
      status,
      stopReason: stop,
      reason,
      iterations: iterationsRun(state),
      usage: state.usage,
      costUsd: state.costUsd,
      durationMs: 0,
      image: state.image,
    };
    try {
      save();
      emit({ ...finished, durationMs: state.elapsedMs });
    } catch (writeError) {
      // The disk is full or gone: the record keeps its last good state (both files are
      // written safely), and the user still hears how the run ended.
      report({
        type: "warning",
        message: `could not record the end of the run: ${errorMessage(writeError)}`,
      });
      report({ ...finished, durationMs: state.elapsedMs });
      return { state, error: error ?? asFatal(writeError) };
    }
    return { state, error };
  };

  try {
    emit({
      type: "run.started",
      runId: state.runId,
      runDir: store.dir,
      resumed,
      iteration: state.progress.iteration,
      maxIterations: options.maxIterations,
      model: options.model,
    });
    save();
    // A leg killed before it could clean up (kill -9) may have left a container running.
    if (resumed) await sandbox.cleanup();
    for (;;) {
      if (inner.aborted) throw new AbortedError(abortCause(inner));
      const budget = budgetReached();
      if (budget) return await finish(budget.stop, budget.reason);
      const { iteration: n, step } = state.progress;

      switch (step) {
        case "generate": {
          emit({ type: "phase", phase: "generate", iteration: n });
          const generation = await model.generate({ ...state.input, checks: checkView }, ctx(n));
          store.writeIterationJson(n, "generation.json", generation);
          pending = { iteration: n, changes: { ...generation, delete: null } };
          state.progress = { iteration: n, step: "apply" };
          save();
          break;
        }

        case "apply": {
          if (n > options.maxIterations) {
            const last = state.iterations.at(-1)?.verdict?.reason;
            return await finish(
              "max-iterations",
              `not passed after ${options.maxIterations} iteration${options.maxIterations === 1 ? "" : "s"}${last ? `: ${last}` : ""}`,
            );
          }
          emit({ type: "phase", phase: "apply", iteration: n });
          // The answer as the model gave it; the copy on disk has secrets masked, so it is
          // read only when resuming a run that stopped between answer and apply.
          const raw = pending?.iteration === n ? pending.changes : readAnswer(store, n);
          const changes = normalizeChanges(raw, replyLimits);
          const applied = await store.applyChanges(changes, n);
          summaryFor(state, n).changes = {
            written: applied.written,
            deleted: applied.deleted,
            refused: applied.refused,
            dockerfileChanged: applied.dockerfileChanged,
          };
          emit({ type: "changes.applied", iteration: n, ...applied });
          state.progress = { iteration: n, step: "execute" };
          save();
          break;
        }

        case "execute":
          await rounds.execute(n, inner);
          break;

        case "check":
          await rounds.check(n, inner);
          break;

        case "validate": {
          emit({ type: "phase", phase: "validate", iteration: n });
          const result = store.readIterationJson<RoundResult>(n, RESULT_FILE);
          if (!result) throw new RunStateError(`the run folder lacks the result of iteration ${n}`);
          const checkResults = checksOf(options).commands.length
            ? store.readIterationJson<ChecksReport>(n, CHECKS_FILE)
            : null;
          const project = await store.snapshot();
          const written = changedIn(state, n);
          layout = nextLayout(layout, { ...project, iteration: n, changedIn: written });
          const decision = await decide({
            model,
            request: {
              prompt: state.input.prompt,
              tests: state.input.tests,
              iteration: n,
              maxIterations: options.maxIterations,
              dockerfile: project.dockerfile,
              files: project.files,
              build: result.build,
              exec: result.exec,
              checks: checkView,
              checkResults,
              refused: summaryFor(state, n).changes?.refused ?? [],
              history: roundMemory(state, n),
              changedIn: written,
              deleted: summaryFor(state, n).changes?.deleted ?? [],
              reusedFrom: summaryFor(state, n).reusedFrom,
              layout,
            },
            result,
            checks: checkResults,
            mode: verdictMode,
            repairAttempts: options.repairAttempts,
            ctx: ctx(n),
            budgetReached: () => budgetReached() !== null,
            onRejected: (attempt, { by, missing, problem }) =>
              emit({
                type: "evidence.rejected",
                iteration: n,
                attempt,
                by,
                missing: boundQuotes(missing),
                problem,
              }),
          });
          const { verdict, accepted } = decision;
          const rejections = decision.rejections.map((r) => ({ ...r, missing: boundQuotes(r.missing) }));
          const decidedBy = decision.asked ? verdictMode : "checks";
          const record: VerdictRecord = { ...verdict, accepted, rejections, decidedBy };
          store.writeIterationJson(n, VERDICT_FILE, record);
          // verdict.json keeps the judge's words whole; what is echoed of them is bounded.
          const reason = cutEcho(verdict.reason, REASON_CHARS);
          const unproven = verdict.passed && !accepted;
          summaryFor(state, n).verdict = {
            passed: verdict.passed,
            accepted,
            // The reason of a pass azlon refused is the refusal, not the judge's claim.
            reason: unproven ? refusalReason(decision.rejections.at(-1), checkResults) : reason,
          };
          emit({
            type: "verdict",
            iteration: n,
            passed: verdict.passed,
            accepted,
            reason,
            evidence: boundQuotes(verdict.evidence),
            decidedBy,
          });
          if (verdict.passed && accepted) return await finish("passed", reason);
          pending = { iteration: n + 1, changes: verdict };
          state.progress = { iteration: n + 1, step: "apply" };
          save();
          break;
        }

        case "done":
          return await finish("passed", state.reason ?? "passed");
      }
    }
  } catch (error) {
    if (error instanceof AbortedError || inner.aborted) {
      const cause = error instanceof AbortedError ? error.why : abortCause(inner);
      return await finish(
        cause === "max-time" ? "max-time" : "interrupted",
        cause === "max-time"
          ? `time budget reached: ${Math.round((options.budgets.maxTimeMs ?? 0) / 1000)} s`
          : "interrupted by the user",
      );
    }
    const err = asFatal(error);
    if (!(err instanceof FatalError)) {
      try {
        emit({ type: "warning", message: `internal error: ${err.stack ?? err.message}` });
      } catch {
        // The journal itself failed; finish() reports what it can.
      }
    }
    const message = err instanceof FatalError ? err.message : `unexpected error: ${err.message}`;
    return await finish("error", message, err);
  } finally {
    if (timer) clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
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

/** The answer to apply at iteration n, from the run folder: the generation, or the last verdict. */
function readAnswer(store: RunStore, n: number): RawChanges {
  const source =
    n === 1
      ? store.readIterationJson<Generation>(1, "generation.json")
      : store.readIterationJson<VerdictRecord>(n - 1, "verdict.json");
  if (!source) throw new RunStateError(`the run folder lacks the answer to apply for iteration ${n}`);
  return {
    dockerfile: source.dockerfile,
    files: source.files,
    edits: source.edits ?? null,
    delete: "delete" in source ? source.delete : null,
  };
}
