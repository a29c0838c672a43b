import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import type { Result } from "../engine/result.js";
import { embeddedAsset } from "../prompts/embedded.js";
import { formatCount } from "../util/format.js";
import { costText } from "./report.js";
import type { BatchFile } from "./schema.js";

/** The single executable's list of the bench task files it carries (scripts/build-binary.mjs). */
export const BENCH_MANIFEST = "bench/manifest.json";
/** Where those files are among its assets: bench/tasks/<task>/<path>. */
export const BENCH_ASSETS = "bench/tasks";

/** A folder of the task set: it holds task folders (a task.yaml or a task.toml one level down). */
function isBenchDir(dir: string): boolean {
  return existsSync(join(dir, "py-wordfreq", "task.yaml"));
}

/**
 * bench/tasks as installed: beside dist/ in the package, at the root of a checkout. Found by
 * walking up from this module, as the prompt templates are; null when there is none (the
 * single executable carries the tasks inside it instead).
 */
export function shippedBenchDir(): string | null {
  let dir: string;
  try {
    dir = dirname(fileURLToPath(import.meta.url));
  } catch {
    return null;
  }
  for (;;) {
    const candidate = join(dir, "bench", "tasks");
    if (isBenchDir(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * The single executable's task set, written out under `target` (the batch folder's, so that a
 * resumed bench finds the same files); null when this is not the single executable.
 */
export function extractEmbeddedBench(target: string): string | null {
  const manifest = embeddedAsset(BENCH_MANIFEST);
  if (!manifest) return null;
  const files = JSON.parse(manifest.toString("utf8")) as string[];
  for (const rel of files) {
    const clean = normalize(rel);
    if (clean.startsWith("..") || clean.startsWith("/")) continue;
    const data = embeddedAsset(`${BENCH_ASSETS}/${rel}`);
    if (!data) continue;
    const path = join(target, clean);
    if (existsSync(path) && readFileSync(path).equals(data)) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  }
  return target;
}

function mean(values: number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : 0;
}

/**
 * bench's figures beside the batch totals: pass@1 and pass@k, mean iterations, and tokens and
 * cost per task and per passed task, each task on a line of its own.
 */
export function benchFigures(file: BatchFile): { lines: string[]; json: Record<string, unknown> } {
  const k = file.options.attempts;
  const perTask = file.tasks.map((t) => {
    const results = t.attempts.map((a) => a.result).filter((r): r is Result => r !== null);
    const tokens = results.reduce((s, r) => s + r.usage.promptTokens + r.usage.completionTokens, 0);
    const unpriced = results.some((r) => r.costUsd === null && r.usage.promptTokens > 0);
    return {
      id: t.id,
      status: t.status,
      passed: results.filter((r) => r.status === "passed").length,
      attempts: results.length,
      meanIterations: mean(results.map((r) => r.iterations)),
      tokens,
      costUsd: unpriced ? null : results.reduce((s, r) => s + (r.costUsd ?? 0), 0),
    };
  });
  const { totals } = file;
  const all = file.tasks.flatMap((t) =>
    t.attempts.map((a) => a.result).filter((r): r is Result => r !== null),
  );
  const figures = {
    k,
    passAt1: totals.passAt1,
    passAtK: totals.passAtK,
    meanIterations: mean(all.map((r) => r.iterations)),
    tokensPerTask: totals.tasks ? totals.tokens / totals.tasks : 0,
    costUsdPerTask: totals.costUsd === null || !totals.tasks ? null : totals.costUsd / totals.tasks,
    tokensPerPassedTask: totals.passed ? totals.tokens / totals.passed : null,
    costUsdPerPassedTask: totals.costUsd === null || !totals.passed ? null : totals.costUsd / totals.passed,
    tasks: perTask,
  };
  const width = Math.max(4, ...perTask.map((t) => t.id.length));
  const lines = [
    `  iterations ${figures.meanIterations.toFixed(2)} on average`,
    `  per task   ${formatCount(Math.round(figures.tokensPerTask))} tokens · ${costText(figures.costUsdPerTask)}`,
    `  per passed ${figures.tokensPerPassedTask === null ? "-" : `${formatCount(Math.round(figures.tokensPerPassedTask))} tokens`} · ${costText(figures.costUsdPerPassedTask)}`,
    `  ${"task".padEnd(width)}  passed  iterations      tokens       cost`,
    ...perTask.map(
      (t) =>
        `  ${t.id.padEnd(width)}  ${`${t.passed}/${t.attempts}`.padStart(6)}  ${t.meanIterations.toFixed(1).padStart(10)}  ${formatCount(t.tokens).padStart(10)}  ${costText(t.costUsd).padStart(9)}`,
    ),
  ];
  return { lines, json: { bench: figures } };
}
