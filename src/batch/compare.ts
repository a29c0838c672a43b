import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UsageError } from "../core/errors.js";
import type { Result } from "../engine/result.js";
import { readBatch } from "./merge.js";
import type { BatchFile, Comparison } from "./schema.js";
import { mcnemarExact, newcombePaired } from "./stats.js";

/** A batch to compare: its folder, or its batch.json. */
export function batchAt(path: string): { dir: string; file: BatchFile } {
  const full = resolve(path);
  let dir = full;
  try {
    if (statSync(full).isFile()) dir = dirname(full);
  } catch {
    throw new UsageError(`${full} does not exist`, "name a batch folder (or its batch.json)");
  }
  return { dir, file: readBatch(dir) };
}

type Task = BatchFile["tasks"][number];

function side(tasks: Task[]): Comparison["a"] {
  const passed = tasks.filter((t) => t.status === "passed").length;
  const results = tasks.flatMap((t) =>
    t.attempts.map((a) => a.result).filter((r): r is Result => r !== null),
  );
  const tokens = results.reduce((s, r) => s + r.usage.promptTokens + r.usage.completionTokens, 0);
  const unpriced = results.some(
    (r) => r.costUsd === null && r.usage.promptTokens + r.usage.completionTokens > 0,
  );
  const cost = results.reduce((s, r) => s + (r.costUsd ?? 0), 0);
  return {
    passed,
    tasks: tasks.length,
    passRate: tasks.length ? passed / tasks.length : 0,
    tokensPerPassedTask: passed ? tokens / passed : null,
    costUsdPerPassedTask: passed && !unpriced ? Number((cost / passed).toFixed(6)) : null,
  };
}

/** What compare found besides the figures: the tasks only one side ran. */
export interface ComparedBatches {
  comparison: Comparison;
  onlyInA: string[];
  onlyInB: string[];
}

/**
 * Pairs the tasks two batches share (a task passed when one of its attempts passed) and
 * compares them: each side's pass rate, B's minus A's, the exact McNemar p-value on the tasks
 * one side passed and the other did not, and Newcombe's 95% interval for the difference.
 */
export function compareBatches(a: BatchFile, b: BatchFile): ComparedBatches {
  const inB = new Map(b.tasks.map((t) => [t.id, t]));
  const inA = new Set(a.tasks.map((t) => t.id));
  const pairs = a.tasks.flatMap((t) => {
    const other = inB.get(t.id);
    return other ? [{ a: t, b: other }] : [];
  });
  if (pairs.length === 0) {
    throw new UsageError(
      "the two batches share no task",
      "compare two batches of the same tasks (e.g. two models or prompts)",
    );
  }
  const counts = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
  for (const p of pairs) {
    const pa = p.a.status === "passed";
    const pb = p.b.status === "passed";
    if (pa && pb) counts.both++;
    else if (pa) counts.onlyA++;
    else if (pb) counts.onlyB++;
    else counts.neither++;
  }
  const sa = side(pairs.map((p) => p.a));
  const sb = side(pairs.map((p) => p.b));
  return {
    comparison: {
      schemaVersion: 1,
      tasks: pairs.map((p) => ({ id: p.a.id, a: p.a.status, b: p.b.status })),
      a: sa,
      b: sb,
      difference: sb.passRate - sa.passRate,
      pValue: mcnemarExact(counts.onlyA, counts.onlyB),
      interval: newcombePaired(counts) ?? [-1, 1],
    },
    onlyInA: a.tasks.filter((t) => !inB.has(t.id)).map((t) => t.id),
    onlyInB: b.tasks.filter((t) => !inA.has(t.id)).map((t) => t.id),
  };
}
