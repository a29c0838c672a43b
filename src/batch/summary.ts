import type { Result } from "../engine/result.js";
import { attemptPath, readAttempt } from "./folder.js";
import type { BatchFile, Summary, TaskStatus, Totals } from "./schema.js";
import { passAtK } from "./stats.js";
import type { TaskFormat } from "./task.js";

/** A task as batch.json names it. */
export interface TaskRef {
  id: string;
  format: TaskFormat;
  source: string;
}

/** An attempt that ended as the task's own outcome (not stopped by the user or the environment). */
export function finished(result: Result | null): boolean {
  if (!result) return false;
  if (result.status === "interrupted") return false;
  return !(result.status === "error" && result.errorCategory === "environment");
}

/** A task's status from its attempts: passed when one passed, else the worst that finished. */
export function taskStatus(results: readonly (Result | null)[]): TaskStatus {
  const statuses = new Set(results.map((r) => r?.status));
  if (statuses.has("passed")) return "passed";
  if (statuses.has("failed")) return "failed";
  if (statuses.has("error")) return "error";
  if (statuses.has("interrupted")) return "interrupted";
  return "pending";
}

/** batch.json's tasks as the attempt folders say they stand (the folders are the record). */
export function scanTasks(batchDir: string, tasks: readonly TaskRef[], attempts: number): BatchFile["tasks"] {
  return tasks.map((task) => {
    const records = [];
    for (let n = 1; n <= attempts; n++) {
      records.push({
        attempt: n,
        dir: attemptPath(task.id, n),
        result: readAttempt(batchDir, task.id, n).result,
      });
    }
    const { id, format, source } = task;
    return { id, format, source, status: taskStatus(records.map((r) => r.result)), attempts: records };
  });
}

/**
 * The totals: tasks by status, pass@1 and pass@k (k = the batch's attempts) over the tasks with
 * a finished attempt, tokens and cost of every attempt, and the batch's own time.
 */
export function totalsOf(tasks: BatchFile["tasks"], k: number, durationMs: number): Totals {
  let passAt1 = 0;
  let passAtKSum = 0;
  let scored = 0;
  let tokens = 0;
  let costUsd: number | null = 0;
  for (const task of tasks) {
    const results = task.attempts.map((a) => a.result).filter((r): r is Result => r !== null);
    const done = results.filter(finished);
    if (done.length > 0) {
      const passed = done.filter((r) => r.status === "passed").length;
      passAt1 += passed / done.length;
      passAtKSum += passAtK(done.length, passed, k);
      scored++;
    }
    for (const r of results) {
      const used = r.usage.promptTokens + r.usage.completionTokens;
      tokens += used;
      if (r.costUsd === null) {
        if (used > 0) costUsd = null;
      } else if (costUsd !== null) costUsd += r.costUsd;
    }
  }
  const count = (status: TaskStatus) => tasks.filter((t) => t.status === status).length;
  const allUnpriced = tasks.every((t) =>
    t.attempts.every((a) => a.result === null || a.result.costUsd === null),
  );
  return {
    tasks: tasks.length,
    passed: count("passed"),
    failed: count("failed"),
    error: count("error"),
    passAt1: scored ? passAt1 / scored : 0,
    passAtK: scored ? passAtKSum / scored : 0,
    tokens,
    costUsd: costUsd === null || (allUnpriced && tokens > 0) ? null : Number(costUsd.toFixed(6)),
    durationMs: Math.round(durationMs),
  };
}

/** The --json summary of a batch. */
export function summaryOf(batchDir: string, file: BatchFile): Summary {
  return {
    schemaVersion: 1,
    batchDir,
    tasks: file.tasks.map((t) => ({
      id: t.id,
      status: t.status,
      attempts: t.attempts.map((a) => a.result).filter((r): r is Result => r !== null),
    })),
    totals: file.totals,
  };
}
