import { existsSync } from "node:fs";
import { join } from "node:path";
import { DockerUnavailableError, EndpointError, errorMessage, type FatalError } from "../core/errors.js";
import type { LoopEvent } from "../core/events.js";
import type { RunState } from "../core/state.js";
import type { Model } from "../core/types.js";
import type { Engine, RunHandle } from "../engine/engine.js";
import { errorResult, type Result, resultOf, runReport } from "../engine/result.js";
import { createRun, openRun, type PreparedRun, type ResumeOverrides, readRun } from "../engine/runs.js";
import {
  attemptPath,
  readAttempt,
  setAttemptAside,
  writeAttemptMarker,
  writeAttemptResult,
} from "./folder.js";
import type { TaskRun } from "./run-options.js";
import type { BatchFile } from "./schema.js";
import { finished, taskStatus } from "./summary.js";
import type { BatchTask } from "./task.js";

/** A task ready to run: its run options (per attempt folder) and, under --oracle, its model. */
export interface PlannedTask {
  task: BatchTask;
  run: (attemptDir: string) => TaskRun;
  model: Model | null;
}

/** Why a batch stopped before its end. */
export type StopReason = NonNullable<BatchFile["stopReason"]>;

/** What the runner tells the face, which decides how it looks. */
export type BatchEvent =
  | { type: "attempt.started"; taskId: string; attempt: number; resumed: boolean; runDir: string }
  | { type: "attempt.event"; taskId: string; attempt: number; event: LoopEvent; state: RunState }
  | { type: "attempt.finished"; taskId: string; attempt: number; result: Result; warnings: string[] }
  | { type: "batch.stopping"; reason: StopReason; message: string }
  | { type: "warning"; message: string };

export interface RunnerInput {
  engine: Engine;
  batchDir: string;
  /** batch.json as it stands; the runner keeps its tasks' attempts up to date. */
  file: BatchFile;
  tasks: PlannedTask[];
  concurrency: number;
  retryFailed: boolean;
  /** The limits and endpoint given on this command line, laid over a resumed run's own. */
  overrides: ResumeOverrides;
  maxCostUsd: number | null;
  /** The batch's time budget, over all its legs (file.elapsedMs is the earlier legs'). */
  maxTimeMs: number | null;
  /** batch.json is written now and then while it goes: the face decides how. */
  save: () => void;
  onEvent: (event: BatchEvent) => void;
  /** Tasks that cannot start at all (a check image the engine lacks), by id: each attempt records the error. */
  cannotStart?: ReadonlyMap<string, FatalError>;
  /** Ctrl-C and the like: the attempts in flight stop and resume when the batch runs again. */
  signal: AbortSignal;
  now?: () => number;
}

export interface RunnerOutcome {
  stopReason: StopReason | null;
  /** The failure that stopped the batch for every task (the engine or the endpoint is down). */
  environmentError: FatalError | null;
}

/** An attempt to run: a fresh one, or one that stopped part way, resumed where it stopped. */
interface Job {
  index: number;
  attempt: number;
  resume: string | null;
}

/** The environment failed for everyone: the engine or the endpoint, not this task. */
function environmentDown(error: Error | null): error is FatalError {
  return error instanceof DockerUnavailableError || error instanceof EndpointError;
}

/**
 * Which attempts need running, from the attempt folders: finished ones are kept (failed and
 * errored ones set aside with --retry-failed), ones that stopped part way are resumed, the
 * rest started. Attempt 1 of every task goes before attempt 2 of any.
 */
export function pendingJobs(
  batchDir: string,
  tasks: readonly BatchTask[],
  attempts: number,
  retryFailed: boolean,
): Job[] {
  const jobs: Job[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    tasks.forEach((task, index) => {
      const disk = readAttempt(batchDir, task.id, attempt);
      if (disk.result && finished(disk.result)) {
        if (!retryFailed || disk.result.status === "passed") return;
        setAttemptAside(batchDir, task.id, attempt);
        jobs.push({ index, attempt, resume: null });
        return;
      }
      const resumable = disk.runDir !== null && existsSync(join(disk.runDir, "run.json"));
      jobs.push({ index, attempt, resume: resumable ? disk.runDir : null });
    });
  }
  return jobs;
}

/** Runs the batch's pending attempts, `concurrency` at a time, until done or stopped. */
export async function runBatch(input: RunnerInput, jobs: Job[]): Promise<RunnerOutcome> {
  const { engine, batchDir, file, tasks } = input;
  const now = input.now ?? (() => performance.now());
  const legStart = now();
  const elapsedBefore = file.elapsedMs;
  const active = new Map<string, RunHandle>();
  const queue = [...jobs];
  let stopReason: StopReason | null = null;
  let environmentError: FatalError | null = null;
  // The engine or the endpoint down for everyone shows as the first failures in a row.
  const envLimit = Math.min(3, jobs.length);
  let envInARow = 0;
  let lastSave = now();

  const stop = (reason: StopReason, message: string) => {
    if (stopReason) return;
    stopReason = reason;
    input.onEvent({ type: "batch.stopping", reason, message });
    for (const handle of active.values()) handle.cancel("interrupted");
  };
  const finishedCost = (): number =>
    file.tasks.reduce(
      (sum, t) =>
        sum +
        t.attempts.reduce(
          (s, a) => s + (a.result && !active.has(key(t.id, a.attempt)) ? (a.result.costUsd ?? 0) : 0),
          0,
        ),
      0,
    );
  const checkCost = () => {
    if (input.maxCostUsd === null) return;
    const live = [...active.values()].reduce((s, h) => s + (h.state.costUsd ?? 0), 0);
    const spent = finishedCost() + live;
    if (spent >= input.maxCostUsd) {
      stop("max-cost", `the batch's cost budget is reached: $${spent.toFixed(4)} of $${input.maxCostUsd}`);
    }
  };
  const onAbort = () =>
    stop("interrupted", "interrupted: the attempts in flight resume when the batch runs again");
  if (input.signal.aborted) onAbort();
  else input.signal.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  if (input.maxTimeMs !== null) {
    const left = input.maxTimeMs - elapsedBefore;
    const fire = () =>
      stop("max-time", `the batch's time budget is reached: ${Math.round((input.maxTimeMs ?? 0) / 1000)} s`);
    if (left <= 0) fire();
    else {
      timer = setTimeout(fire, left);
      timer.unref?.();
    }
  }
  checkCost();

  const record = (job: Job, result: Result) => {
    const task = file.tasks[job.index];
    if (!task) return;
    const id = task.id;
    try {
      writeAttemptResult(batchDir, id, job.attempt, result);
    } catch (error) {
      // The run folder has the outcome too: the next scan reads it from there.
      input.onEvent({
        type: "warning",
        message: `${id} #${job.attempt}: could not write its result: ${errorMessage(error)}`,
      });
    }
    const slot = task.attempts.find((a) => a.attempt === job.attempt);
    if (slot) slot.result = result;
    else task.attempts.push({ attempt: job.attempt, dir: attemptPath(id, job.attempt), result });
    task.status = taskStatus(task.attempts.map((a) => a.result));
    if (now() - lastSave > SAVE_EVERY_MS) {
      lastSave = now();
      file.elapsedMs = elapsedBefore + Math.round(now() - legStart);
      input.save();
    }
  };

  const runJob = async (job: Job): Promise<void> => {
    const planned = tasks[job.index];
    if (!planned) return;
    const { task } = planned;
    const attemptDir = join(batchDir, attemptPath(task.id, job.attempt));
    // An attempt that ends before it starts is this task's error, never the batch's.
    const endsUnstarted = (result: Result) => {
      record(job, result);
      input.onEvent({
        type: "attempt.finished",
        taskId: task.id,
        attempt: job.attempt,
        result,
        warnings: [],
      });
    };
    const refused = input.cannotStart?.get(task.id);
    if (refused) {
      const fix = refused.hint ? ` (fix: ${refused.hint})` : "";
      endsUnstarted(errorResult(`the task cannot start: ${refused.message}${fix}`, refused));
      return;
    }
    let prepared: PreparedRun;
    try {
      if (job.resume) {
        const state = readRun(job.resume, engine.redactor).state;
        if (state.status === "passed" || state.status === "failed") {
          // It ended before its result was written (a kill at that moment): nothing to run.
          const { folder } = readRun(job.resume, engine.redactor);
          record(job, engine.redactor.redactDeep(resultOf(runReport(folder, state, null))));
          return;
        }
        // The batch holds its lock: a run here that says "running" was left by a process that is gone.
        prepared = openRun(job.resume, engine.redactor, input.overrides, { force: true, by: "azlon batch" });
      } else {
        const { options } = planned.run(attemptDir);
        prepared = createRun({ prompt: task.prompt, tests: task.tests }, options, engine.redactor);
        writeAttemptMarker(batchDir, task.id, job.attempt, prepared.state.runId);
      }
    } catch (error) {
      // A run folder that cannot be written or read.
      endsUnstarted(errorResult(`the attempt could not start: ${errorMessage(error)}`, error));
      return;
    }
    const handle = engine.start(prepared, planned.model ? { model: planned.model } : {});
    const id = key(task.id, job.attempt);
    active.set(id, handle);
    if (stopReason) handle.cancel("interrupted");
    input.onEvent({
      type: "attempt.started",
      taskId: task.id,
      attempt: job.attempt,
      resumed: job.resume !== null,
      runDir: handle.dir,
    });
    const stopListening = handle.on((event) => {
      input.onEvent({
        type: "attempt.event",
        taskId: task.id,
        attempt: job.attempt,
        event,
        state: handle.state,
      });
      if (event.type === "model.call") checkCost();
    });
    let ended: { result: Result; error: Error | null; warnings: string[] };
    try {
      ended = await handle.done;
    } catch (error) {
      // A bug before the loop could record anything: this attempt's error, never the batch's end.
      const result = errorResult(`unexpected error (a bug in azlon): ${errorMessage(error)}`, error);
      ended = {
        result: { ...result, runId: prepared.state.runId, runDir: handle.dir },
        error: null,
        warnings: [],
      };
    } finally {
      stopListening();
      active.delete(id);
    }
    record(job, ended.result);
    input.onEvent({
      type: "attempt.finished",
      taskId: task.id,
      attempt: job.attempt,
      result: ended.result,
      warnings: ended.warnings,
    });
    if (ended.result.status === "interrupted") return;
    if (environmentDown(ended.error)) {
      envInARow++;
      if (envInARow >= envLimit && !stopReason) {
        environmentError = ended.error;
        stop("environment", ended.error.message);
      }
    } else {
      envInARow = 0;
    }
    checkCost();
  };

  const worker = async () => {
    for (;;) {
      if (stopReason) return;
      const job = queue.shift();
      if (!job) return;
      await runJob(job);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, queue.length)) }, worker));
  } finally {
    if (timer) clearTimeout(timer);
    input.signal.removeEventListener("abort", onAbort);
    file.elapsedMs = elapsedBefore + Math.round(now() - legStart);
  }
  return { stopReason, environmentError };
}

/** How often batch.json is rewritten while the batch goes (the attempt folders are the record). */
const SAVE_EVERY_MS = 2000;

function key(taskId: string, attempt: number): string {
  return `${taskId}#${attempt}`;
}
