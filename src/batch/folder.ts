import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import { type Result, ResultSchema } from "../engine/result.js";
import { fileErrorCause } from "../util/file-errors.js";
import { safeJson } from "../util/terminal.js";
import { writeFileAtomic } from "../workspace/run-folder.js";
import { type BatchFile, BatchFileSchema } from "./schema.js";

/**
 * The batch folder:
 *   batch.json                  the batch (schemas/batch.schema.json), rewritten as it goes
 *   summary.md                  the outcome for people, written at each end
 *   runs/<task>/<n>/            one folder per task and attempt:
 *     attempt.json              {"run": "<run id>"}: the run folder below is this attempt's
 *     <run id>/                 the run folder (run.json, events.jsonl, workspace/, ...)
 *     result.json               the run's --json result, once it has ended
 * An attempt's own files are the record: batch.json is rebuilt from them, so a batch killed
 * at any point (kill -9) loses nothing.
 */
export const BATCH_FILE = "batch.json";
export const SUMMARY_FILE = "summary.md";
export const RUNS_DIR = "runs";
export const ATTEMPT_FILE = "attempt.json";
export const RESULT_FILE = "result.json";

/** An attempt's folder, relative to the batch folder. */
export function attemptPath(taskId: string, attempt: number): string {
  return `${RUNS_DIR}/${taskId}/${attempt}`;
}

/** What an attempt's folder says about it. */
export interface AttemptOnDisk {
  /** The attempt's run folder (absolute), or null when none was made. */
  runDir: string | null;
  /** The run's result once it ended, or null. */
  result: Result | null;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

/** Reads one attempt's folder; a file that is torn or foreign counts as not written. */
export function readAttempt(batchDir: string, taskId: string, attempt: number): AttemptOnDisk {
  const dir = join(batchDir, attemptPath(taskId, attempt));
  const marker = readJson(join(dir, ATTEMPT_FILE)) as { run?: unknown } | null;
  const run = typeof marker?.run === "string" && /^[\w.-]+$/.test(marker.run) ? marker.run : null;
  const parsed = ResultSchema.safeParse(readJson(join(dir, RESULT_FILE)));
  const result = parsed.success ? parsed.data : null;
  return { runDir: run ? join(dir, run) : null, result };
}

/** Marks the attempt's run folder as its own: written before the run starts. */
export function writeAttemptMarker(batchDir: string, taskId: string, attempt: number, runId: string): void {
  const dir = join(batchDir, attemptPath(taskId, attempt));
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, ATTEMPT_FILE), `${JSON.stringify({ run: runId })}\n`);
}

export function writeAttemptResult(batchDir: string, taskId: string, attempt: number, result: Result): void {
  writeFileAtomic(join(batchDir, attemptPath(taskId, attempt), RESULT_FILE), `${safeJson(result, 2)}\n`);
}

/**
 * Sets an attempt's run aside so that --retry-failed starts it again: its marker and result
 * are renamed (the marker first: a crash between the two leaves the old result standing, never
 * the old run to resume), and its old run folder stays where it was.
 */
export function setAttemptAside(batchDir: string, taskId: string, attempt: number): void {
  const dir = join(batchDir, attemptPath(taskId, attempt));
  const stamp = Date.now();
  for (const name of [ATTEMPT_FILE, RESULT_FILE]) {
    const path = join(dir, name);
    if (existsSync(path)) renameSync(path, `${path}.retried-${stamp}`);
  }
}

/** A batch folder's batch.json, or null when there is none; one that cannot be used is refused. */
export function readBatchFile(batchDir: string): BatchFile | null {
  const path = join(batchDir, BATCH_FILE);
  if (!existsSync(path)) return null;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${fileErrorCause(error)}`, "name a batch folder azlon made");
  }
  const parsed = BatchFileSchema.safeParse(data);
  if (!parsed.success) {
    throw new UsageError(`${path} is not a batch this azlon can read`, "name a batch folder azlon made");
  }
  return parsed.data;
}

export function writeBatchFile(batchDir: string, file: BatchFile): void {
  writeFileAtomic(join(batchDir, BATCH_FILE), `${safeJson(file, 2)}\n`);
}
