import { mkdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { UsageError } from "../core/errors.js";
import { writeFileAtomic } from "../workspace/run-folder.js";
import { readBatchFile, SUMMARY_FILE, writeBatchFile } from "./folder.js";
import { summaryMarkdown } from "./report.js";
import type { BatchFile } from "./schema.js";
import { scanTasks, totalsOf } from "./summary.js";

/**
 * A batch folder's batch.json as its attempt folders say it stands now (a shard killed before
 * it could write batch.json loses nothing); a merged batch's own batch.json as it is.
 */
export function readBatch(dir: string): BatchFile {
  const file = readBatchFile(dir);
  if (!file) {
    throw new UsageError(
      `${dir} is not a batch folder (it has no batch.json)`,
      "name the folders `azlon batch` wrote",
    );
  }
  if (file.mergedFrom) return file;
  const tasks = scanTasks(dir, file.tasks, file.options.attempts);
  return { ...file, tasks, totals: totalsOf(tasks, file.options.attempts, file.elapsedMs) };
}

/** What merging found that the user should know, though it did not stop the merge. */
export interface MergeOutcome {
  file: BatchFile;
  warnings: string[];
}

/**
 * Joins shard folders into one batch: their tasks side by side (each attempt's folder named
 * from the merged folder), one summary. Two shards that ran the same task are refused.
 */
export function mergeBatches(dirs: readonly string[], out: string): MergeOutcome {
  const outDir = resolve(out);
  const shards = dirs.map((d) => ({ dir: resolve(d), file: readBatch(resolve(d)) }));
  if (shards.some((s) => s.dir === outDir)) {
    throw new UsageError(`--out ${outDir} is one of the folders to merge`, "merge into a new folder");
  }
  const existing = readBatchFile(outDir);
  if (existing && !existing.mergedFrom) {
    throw new UsageError(`${outDir} holds a batch of its own`, "merge into a new folder");
  }
  const seen = new Map<string, string>();
  const tasks: BatchFile["tasks"] = [];
  for (const { dir, file } of shards) {
    for (const task of file.tasks) {
      const first = seen.get(task.id);
      if (first !== undefined) {
        throw new UsageError(
          `the task "${task.id}" was run by two of the batches: ${first} and ${dir}`,
          "merge the shards of one batch (each ran its own tasks), or leave one of them out",
        );
      }
      seen.set(task.id, dir);
      tasks.push({
        ...task,
        attempts: task.attempts.map((a) => ({ ...a, dir: relative(outDir, join(dir, a.dir)) || "." })),
      });
    }
  }
  const first = shards[0]?.file;
  if (!first) throw new UsageError("batch merge needs at least one batch folder");
  if (new Set(shards.map((s) => s.file.options.oracle)).size > 1) {
    throw new UsageError(
      "some of these batches ran the reference solutions (--oracle) and some a model",
      "merge like with like",
    );
  }
  const warnings: string[] = [];
  const totals = new Set(shards.map((s) => s.file.options.shard?.total ?? 0));
  const [n] = [...totals];
  if (totals.size === 1 && n !== undefined && n > 1) {
    const have = new Set(shards.map((s) => s.file.options.shard?.index));
    const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !have.has(i));
    if (missing.length)
      warnings.push(
        `shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${n}`).join(", ")} missing: their tasks are not in the merge`,
      );
  }
  const unfinished = shards.filter((s) => s.file.status !== "finished");
  for (const s of unfinished)
    warnings.push(
      `${s.dir} did not finish (${s.file.stopReason ?? "it stopped"}): its unfinished tasks show as such`,
    );
  const attempts = Math.max(...shards.map((s) => s.file.options.attempts));
  const elapsedMs = Math.max(...shards.map((s) => s.file.elapsedMs));
  const sources = [...new Set(shards.map((s) => s.file.source))];
  const models = [...new Set(shards.map((s) => s.file.options.model))];
  const now = new Date().toISOString();
  const file: BatchFile = {
    schemaVersion: 1,
    batchId: outDir.split(/[\\/]/).pop() ?? "merged",
    source: sources.join(", "),
    mergedFrom: shards.map((s) => s.dir),
    createdAt: now,
    updatedAt: now,
    status: unfinished.length ? "stopped" : "finished",
    stopReason: unfinished.find((s) => s.file.stopReason)?.file.stopReason ?? null,
    options: {
      attempts,
      concurrency: Math.max(...shards.map((s) => s.file.options.concurrency)),
      shard: null,
      oracle: first.options.oracle,
      model: models.length === 1 ? (models[0] ?? null) : null,
      maxCostUsd: null,
      maxTimeMs: null,
    },
    elapsedMs,
    tasks,
    totals: totalsOf(tasks, attempts, elapsedMs),
  };
  mkdirSync(outDir, { recursive: true });
  writeBatchFile(outDir, file);
  writeFileAtomic(join(outDir, SUMMARY_FILE), summaryMarkdown(file, outDir));
  return { file, warnings };
}
