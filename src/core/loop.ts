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
import { checkEvidence } from "./evidence.js";
import { type IterationSummary, iterationsRun, type RunState, summaryFor } from "./state.js";
import type { RunStore } from "./store.js";
import {
  addUsage,
  type BuildResult,
  type ExecResult,
  type Generation,
  type JudgeFeedback,
  type Model,
  type ModelContext,
  type RoundMemory,
  type Sandbox,
  type Verdict,
  zeroUsage,
} from "./types.js";

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
  legInfo?: { pid: number; host: string };
}

export interface LoopOutcome {
  state: RunState;
  /** The fatal error that ended the run, when it ended as "error". */
  error: Error | null;
}

/** What iterations/NN/result.json holds: enough to validate again after a resume. */
export interface RoundResult {
  build: BuildResult;
  exec: ExecResult | null;
}

/** What iterations/NN/verdict.json holds. */
export interface VerdictRecord extends Verdict {
  /** Whether azlon accepted the verdict (a pass must be proven by its evidence). */
  accepted: boolean;
  rejections: Array<{ missing: string[]; problem: string }>;
}

const MEMORY_ROUNDS = 6;
const MEMORY_REASON_CHARS = 200;

function statusFor(stop: StopReason): Exclude<RunStatus, "running"> {
  if (stop === "passed") return "passed";
  if (stop === "interrupted") return "interrupted";
  if (stop === "error") return "error";
  return "failed";
}

/** A short line per earlier round, so the fixer does not go round in circles. */
export function roundMemory(state: RunState, before: number): RoundMemory[] {
  return state.iterations
    .filter((i) => i.iteration < before && i.build)
    .slice(-MEMORY_ROUNDS)
    .map((i) => ({ iteration: i.iteration, summary: describeRound(i) }));
}

function describeRound(i: IterationSummary): string {
  const parts: string[] = [];
  if (i.changes) {
    const changed = [...(i.changes.dockerfileChanged ? ["Dockerfile"] : []), ...i.changes.written];
    if (changed.length)
      parts.push(`wrote ${changed.slice(0, 8).join(", ")}${changed.length > 8 ? ", ..." : ""}`);
    if (i.changes.deleted.length) parts.push(`deleted ${i.changes.deleted.join(", ")}`);
  }
  if (i.build && !i.build.ok) parts.push(i.build.timedOut ? "build timed out" : "build failed");
  if (i.exec) {
    if (i.exec.timedOut) parts.push("program timed out");
    else if (i.exec.oomKilled) parts.push("program ran out of memory");
    else parts.push(`program exited ${i.exec.exitCode}`);
  }
  if (i.verdict) {
    const reason = i.verdict.reason.replace(/\s+/g, " ").slice(0, MEMORY_REASON_CHARS);
    // A refused pass already has the refusal as its reason.
    parts.push(i.verdict.passed && !i.verdict.accepted ? reason : `not passed: ${reason}`);
  }
  return parts.join("; ");
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
    state.elapsedMs = elapsedBefore + (now() - legStart);
    state.updatedAt = new Date().toISOString();
    store.saveState(state);
  };
  let pending: { iteration: number; changes: RawChanges } | null = null;
  const ctx = (iteration: number): ModelContext => ({ signal: inner, iteration, emit });

  const budgetReached = (): { stop: StopReason; reason: string } | null => {
    const { maxTokens, maxCostUsd } = options.budgets;
    const used = state.usage.promptTokens + state.usage.completionTokens;
    if (maxTokens !== null && used >= maxTokens) {
      return { stop: "max-tokens", reason: `token budget reached: ${used} tokens used of ${maxTokens}` };
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
    await sandbox.cleanup();
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
          const generation = await model.generate(state.input, ctx(n));
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
          const applied = await store.applyChanges(changes);
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

        case "execute": {
          emit({ type: "phase", phase: "build", iteration: n });
          const build = await sandbox.build(
            store.workspaceDir,
            { path: store.logPath(n, "build.log") },
            inner,
          );
          const summary = summaryFor(state, n);
          summary.build = { ok: build.ok, timedOut: build.timedOut, durationMs: build.durationMs };
          if (build.ok) state.image = sandbox.imageTag;
          emit({
            type: "build.finished",
            iteration: n,
            ok: build.ok,
            timedOut: build.timedOut,
            durationMs: build.durationMs,
            image: build.ok ? sandbox.imageTag : null,
          });
          let exec: ExecResult | null = null;
          if (build.ok) {
            emit({ type: "phase", phase: "run", iteration: n });
            exec = await sandbox.run({ path: store.logPath(n, "output.log") }, inner);
            const { output, ...rest } = exec;
            summary.exec = { ...rest, outputBytes: output.totalBytes, truncated: output.truncated };
            emit({ type: "exec.finished", iteration: n, ...summary.exec });
          } else {
            summary.exec = null;
          }
          store.writeIterationJson(n, "result.json", { build, exec } satisfies RoundResult);
          state.progress = { iteration: n, step: "validate" };
          save();
          break;
        }

        case "validate": {
          emit({ type: "phase", phase: "validate", iteration: n });
          const result = store.readIterationJson<RoundResult>(n, "result.json");
          if (!result) throw new RunStateError(`the run folder lacks the result of iteration ${n}`);
          const project = await store.snapshot();
          const request = {
            prompt: state.input.prompt,
            tests: state.input.tests,
            iteration: n,
            maxIterations: options.maxIterations,
            dockerfile: project.dockerfile,
            files: project.files,
            build: result.build,
            exec: result.exec,
            refused: summaryFor(state, n).changes?.refused ?? [],
            history: roundMemory(state, n),
          };
          const feedback: JudgeFeedback[] = [];
          const rejections: VerdictRecord["rejections"] = [];
          let verdict: Verdict;
          let accepted = false;
          for (let attempt = 0; ; attempt++) {
            verdict = await model.judge(request, feedback, ctx(n));
            if (!verdict.passed) break;
            const problem = provePass(verdict, result);
            if (problem === null) {
              accepted = true;
              break;
            }
            emit({
              type: "evidence.rejected",
              iteration: n,
              attempt,
              missing: problem.missing,
              problem: problem.text,
            });
            feedback.push({ previous: verdict, problem: problem.text });
            rejections.push({ missing: problem.missing, problem: problem.text });
            if (attempt >= options.repairAttempts) break;
            if (budgetReached()) break;
          }
          const record: VerdictRecord = {
            ...verdict,
            accepted,
            rejections,
          };
          store.writeIterationJson(n, "verdict.json", record);
          const unproven = verdict.passed && !accepted;
          summaryFor(state, n).verdict = {
            passed: verdict.passed,
            accepted,
            // The reason of a pass azlon refused is the refusal, not the judge's claim.
            reason: unproven
              ? `the judge claimed a pass that the output does not show${
                  rejections.at(-1)?.missing.length
                    ? ` (not found: ${rejections
                        .at(-1)
                        ?.missing.map((m) => JSON.stringify(m))
                        .join(", ")})`
                    : ""
                }`
              : verdict.reason,
          };
          emit({
            type: "verdict",
            iteration: n,
            passed: verdict.passed,
            accepted,
            reason: verdict.reason,
            evidence: verdict.evidence,
          });
          if (verdict.passed && accepted) return await finish("passed", verdict.reason);
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
    delete: "delete" in source ? source.delete : null,
  };
}

/** Why a passing verdict is not accepted, or null when its evidence holds. */
function provePass(verdict: Verdict, result: RoundResult): { missing: string[]; text: string } | null {
  if (!result.build.ok || !result.exec) {
    return {
      missing: [],
      text: "The build failed, so the program never ran: nothing can have passed. Answer passed: false with a fix.",
    };
  }
  const check = checkEvidence(verdict.evidence, result.exec.output.text);
  return check.problem === null ? null : { missing: check.missing, text: check.problem };
}
