import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { benchFigures, extractEmbeddedBench, shippedBenchDir } from "../../batch/bench.js";
import { batchAt, compareBatches } from "../../batch/compare.js";
import { loadTasks } from "../../batch/load.js";
import { mergeBatches } from "../../batch/merge.js";
import { type BatchFlags, planBatch } from "../../batch/plan.js";
import { batchJunit, costText, totalsRows } from "../../batch/report.js";
import type { BatchFile } from "../../batch/schema.js";
import { runBatchSession } from "../../batch/session.js";
import { summaryOf } from "../../batch/summary.js";
import { UsageError } from "../../core/errors.js";
import { formatCount } from "../../util/format.js";
import { safeJson } from "../../util/terminal.js";
import type { CliContext } from "../io.js";
import { spinnerWanted } from "../session.js";

export type { BatchFlags };

/** `azlon batch <tasks>`: many tasks over the engine, as a folder that carries on where it stopped. */
export async function batchCommand(tasks: string, flags: BatchFlags, ctx: CliContext): Promise<number> {
  const plan = await planBatch({ tasks, flags, cwd: ctx.cwd, env: ctx.env, command: "batch" });
  return runBatchSession({
    ctx,
    plan,
    json: !!flags.json,
    junit: flags.junit ?? null,
    live: spinnerWanted(ctx),
  });
}

/** `azlon bench`: the task set shipped with azlon, as a batch, with its figures. */
export async function benchCommand(flags: BatchFlags, ctx: CliContext): Promise<number> {
  const out = resolve(ctx.cwd, flags.out ?? join("azlon-batches", flags.oracle ? "bench-oracle" : "bench"));
  // The single executable carries the tasks inside it: written out into the batch folder.
  const dir = extractEmbeddedBench(join(out, "bench-tasks")) ?? shippedBenchDir();
  if (!dir) {
    throw new UsageError("azlon's bench tasks are missing from its installation", "reinstall azlon");
  }
  const loaded = await loadTasks(dir);
  const plan = await planBatch({
    tasks: dir,
    loaded,
    flags: { ...flags, out },
    cwd: ctx.cwd,
    env: ctx.env,
    command: "bench",
  });
  return runBatchSession({
    ctx,
    plan,
    json: !!flags.json,
    junit: flags.junit ?? null,
    live: spinnerWanted(ctx),
    extra: benchFigures,
  });
}

function writeJunit(ctx: CliContext, path: string | undefined, file: BatchFile): void {
  if (!path) return;
  const full = resolve(ctx.cwd, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, batchJunit(file));
}

function printTotals(ctx: CliContext, file: BatchFile, dir: string): void {
  const rows = totalsRows(file.totals, file.options.attempts).map(([k, v]) => `  ${k.padEnd(10)} ${v}`);
  ctx.stdout.write(
    `${file.totals.passed} of ${file.totals.tasks} tasks passed\n${rows.join("\n")}\n  folder     ${dir}\n`,
  );
}

/** `azlon batch merge <dirs...> --out <dir>`: shard folders joined into one batch. */
export async function mergeCommand(
  dirs: string[],
  flags: { out?: string; json?: boolean; junit?: string },
  ctx: CliContext,
): Promise<number> {
  if (!flags.out) throw new UsageError("batch merge needs --out <dir>: the folder of the merged batch");
  const out = resolve(ctx.cwd, flags.out);
  const { file, warnings } = mergeBatches(
    dirs.map((d) => resolve(ctx.cwd, d)),
    out,
  );
  for (const w of warnings) ctx.stderr.write(`azlon: warning: ${w}\n`);
  writeJunit(ctx, flags.junit, file);
  if (flags.json) ctx.stdout.write(`${safeJson(summaryOf(out, file))}\n`);
  else printTotals(ctx, file, out);
  return file.tasks.every((t) => t.status === "passed") ? 0 : 1;
}

/** `azlon batch show <dir>`: a batch folder's summary, as it stands now. */
export async function showCommand(
  dir: string,
  flags: { json?: boolean; junit?: string },
  ctx: CliContext,
): Promise<number> {
  const { dir: full, file } = batchAt(resolve(ctx.cwd, dir));
  writeJunit(ctx, flags.junit, file);
  if (flags.json) ctx.stdout.write(`${safeJson(summaryOf(full, file))}\n`);
  else printTotals(ctx, file, full);
  return 0;
}

const signed = (n: number, digits = 3) => `${n >= 0 ? "+" : ""}${n.toFixed(digits)}`;

/** `azlon batch compare <A> <B>`: B against A on the tasks both ran. Exit 0 whatever the result. */
export async function compareCommand(
  a: string,
  b: string,
  flags: { json?: boolean },
  ctx: CliContext,
): Promise<number> {
  const left = batchAt(resolve(ctx.cwd, a));
  const right = batchAt(resolve(ctx.cwd, b));
  const { comparison: c, onlyInA, onlyInB } = compareBatches(left.file, right.file);
  if (flags.json) {
    ctx.stdout.write(`${safeJson(c)}\n`);
    return 0;
  }
  const onlyA = c.tasks.filter((t) => t.a === "passed" && t.b !== "passed").length;
  const onlyB = c.tasks.filter((t) => t.b === "passed" && t.a !== "passed").length;
  const perPassed = (s: typeof c.a) =>
    `${s.tokensPerPassedTask === null ? "-" : formatCount(Math.round(s.tokensPerPassedTask))} tokens · ${costText(s.costUsdPerPassedTask)}`;
  const lines = [
    `A  ${left.dir}`,
    `B  ${right.dir}`,
    `  paired tasks   ${c.tasks.length}${onlyInA.length || onlyInB.length ? ` (not compared: ${onlyInA.length} only in A, ${onlyInB.length} only in B)` : ""}`,
    `  pass rate      A ${c.a.passRate.toFixed(3)} (${c.a.passed}/${c.a.tasks}) · B ${c.b.passRate.toFixed(3)} (${c.b.passed}/${c.b.tasks})`,
    `  difference     ${signed(c.difference)} (B - A); 95% interval [${signed(c.interval[0])}, ${signed(c.interval[1])}] (Newcombe's hybrid score interval, paired)`,
    `  p-value        ${c.pValue.toFixed(4)} (exact McNemar on ${onlyA + onlyB} discordant tasks: ${onlyB} passed only in B, ${onlyA} only in A)`,
    `  per passed     A ${perPassed(c.a)} · B ${perPassed(c.b)}`,
  ];
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
