import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type CliContext, type InterruptSignal, interruptExitCode } from "../cli/io.js";
import { ExitCode, errorMessage, FatalError, UsageError } from "../core/errors.js";
import { Engine } from "../engine/engine.js";
import { apiKeyFrom, redactorFor } from "../engine/options.js";
import { fileErrorCause } from "../util/file-errors.js";
import { forTerminal, safeJson } from "../util/terminal.js";
import { writeFileAtomic } from "../workspace/run-folder.js";
import { readBatchFile, SUMMARY_FILE, writeBatchFile } from "./folder.js";
import { lockBatch } from "./lock.js";
import type { BatchPlan } from "./plan.js";
import { BatchProgress } from "./progress.js";
import { batchJunit, summaryMarkdown, totalsRows } from "./report.js";
import { pendingJobs, type RunnerOutcome, runBatch } from "./runner.js";
import type { BatchFile, Summary } from "./schema.js";
import { scanTasks, summaryOf, totalsOf } from "./summary.js";

export interface SessionOptions {
  ctx: CliContext;
  plan: BatchPlan;
  json: boolean;
  /** --junit, relative to the cwd. */
  junit: string | null;
  /** Whether progress is a live table (a person at a terminal) or plain lines. */
  live: boolean;
  /** Printed after the totals (bench's figures), and put in the --json summary. */
  extra?: (file: BatchFile) => { lines: string[]; json: Record<string, unknown> };
}

/** A batch folder made for this plan, or the same batch carried on; a different one is refused. */
function openFile(plan: BatchPlan): BatchFile {
  const existing = readBatchFile(plan.batchDir);
  const now = new Date().toISOString();
  if (existing) {
    const refuse = (what: string) => {
      throw new UsageError(`${plan.batchDir} holds another batch: ${what}`, "give this batch its own --out");
    };
    if (existing.mergedFrom) refuse("a merged one (batch merge made it; run its shards instead)");
    if (existing.source !== plan.source) refuse(`the tasks of ${existing.source}`);
    const shard = (s: BatchFile["options"]["shard"]) => (s ? `${s.index}/${s.total}` : "none");
    if (shard(existing.options.shard) !== shard(plan.shard))
      refuse(`its shard is ${shard(existing.options.shard)}`);
    if (existing.options.oracle !== plan.oracle)
      refuse(existing.options.oracle ? "an --oracle one" : "not an --oracle one");
  }
  return {
    schemaVersion: 1,
    batchId: existing?.batchId ?? plan.batchDir.split(/[\\/]/).pop() ?? "batch",
    source: plan.source,
    mergedFrom: null,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    status: "running",
    stopReason: null,
    options: {
      attempts: plan.attempts,
      concurrency: plan.concurrency,
      shard: plan.shard,
      oracle: plan.oracle,
      model: plan.model,
      maxCostUsd: plan.maxCostUsd,
      maxTimeMs: plan.maxTimeMs,
    },
    elapsedMs: existing?.elapsedMs ?? 0,
    tasks: [],
    totals: totalsOf([], plan.attempts, 0),
  };
}

function save(plan: BatchPlan, file: BatchFile): void {
  file.updatedAt = new Date().toISOString();
  file.totals = totalsOf(file.tasks, plan.attempts, file.elapsedMs);
  writeBatchFile(plan.batchDir, file);
}

/**
 * Makes sure the engine has each check image the tasks name. One it lacks fails the tasks that
 * name it, not the others; one every task names (a --check-image typo) is a usage error, before
 * any request.
 */
async function prepareImages(engine: Engine, plan: BatchPlan): Promise<Map<string, FatalError>> {
  const byImage = new Map<string, FatalError | null>();
  const cannotStart = new Map<string, FatalError>();
  for (const [i, options] of plan.options.entries()) {
    const image = options.checks?.image ?? "";
    if (!byImage.has(image)) {
      byImage.set(
        image,
        await engine.prepare(options).then(
          () => null,
          (error: unknown) => {
            if (error instanceof UsageError) return error;
            throw error;
          },
        ),
      );
    }
    const error = byImage.get(image);
    const task = plan.tasks[i]?.task;
    if (error && task) cannotStart.set(task.id, error);
  }
  const first = cannotStart.values().next().value;
  if (first && cannotStart.size === plan.tasks.length) throw first;
  return cannotStart;
}

/** The exit code of a batch: 0 every task passed, 1 any did not, 3 the environment, 128+signal interrupted. */
function exitCode(file: BatchFile, outcome: RunnerOutcome, signal: InterruptSignal | null): number {
  if (outcome.stopReason === "interrupted") return signal ? interruptExitCode(signal) : ExitCode.interrupted;
  if (outcome.stopReason === "environment") return ExitCode.environment;
  return file.tasks.every((t) => t.status === "passed") ? ExitCode.passed : ExitCode.notPassed;
}

/**
 * Runs a planned batch through the engine and reports it: progress on stderr, batch.json,
 * summary.md, JUnit, the GitHub step summary, and the totals (or the --json summary) on stdout.
 */
export async function runBatchSession(options: SessionOptions): Promise<number> {
  const { ctx, plan } = options;
  try {
    mkdirSync(plan.batchDir, { recursive: true });
  } catch (error) {
    throw new UsageError(
      `cannot create the batch folder ${plan.batchDir}: ${fileErrorCause(error)}`,
      "choose another --out",
    );
  }
  const unlock = lockBatch(plan.batchDir);
  try {
    const file = openFile(plan);
    const tasks = plan.tasks.map((p) => p.task);
    const jobs = pendingJobs(plan.batchDir, tasks, plan.attempts, plan.retryFailed);
    file.tasks = scanTasks(plan.batchDir, tasks, plan.attempts);
    let outcome: RunnerOutcome = { stopReason: null, environmentError: null };
    let signal: InterruptSignal | null = null;
    if (jobs.length > 0) {
      const apiKey = plan.oracle ? "" : apiKeyFrom(ctx.env);
      const redactor = redactorFor(ctx.env, apiKey || null);
      // An engine that is down fails here, in seconds, before anything runs.
      const engine = await Engine.connect(ctx.env, apiKey, redactor);
      const cannotStart = await prepareImages(engine, plan);
      save(plan, file);
      const progress = new BatchProgress({
        stream: ctx.stderr,
        live: options.live,
        total: jobs.length,
        columns: (ctx.stderr as { columns?: number }).columns,
      });
      if (!options.live) {
        ctx.stderr.write(
          `azlon batch: ${jobs.length} attempt${jobs.length === 1 ? "" : "s"} to run of ${tasks.length} task${tasks.length === 1 ? "" : "s"}${plan.shard ? ` (shard ${plan.shard.index}/${plan.shard.total} of ${plan.allTasks})` : ""}, ${plan.concurrency} at a time · ${plan.batchDir}\n`,
        );
      }
      const controller = new AbortController();
      const removeHandler = ctx.onInterrupt?.((s) => {
        if (signal === null) {
          signal = s;
          controller.abort();
        } else if (s === "SIGINT" || s === "SIGTERM") {
          progress.close();
          ctx.exitNow?.(interruptExitCode(s));
        }
      });
      try {
        outcome = await runBatch(
          {
            engine,
            batchDir: plan.batchDir,
            file,
            tasks: plan.tasks,
            concurrency: plan.concurrency,
            retryFailed: plan.retryFailed,
            overrides: plan.overrides,
            maxCostUsd: plan.maxCostUsd,
            maxTimeMs: plan.maxTimeMs,
            cannotStart,
            save: () => save(plan, file),
            onEvent: (event) => progress.handle(event),
            signal: controller.signal,
          },
          jobs,
        );
      } finally {
        removeHandler?.();
        progress.close();
      }
    }
    file.status = outcome.stopReason ? "stopped" : "finished";
    file.stopReason = outcome.stopReason;
    save(plan, file);
    return finish(options, file, outcome, signal);
  } finally {
    unlock();
  }
}

function finish(
  options: SessionOptions,
  file: BatchFile,
  outcome: RunnerOutcome,
  signal: InterruptSignal | null,
): number {
  const { ctx, plan } = options;
  const warn = (what: string, error: unknown) =>
    ctx.stderr.write(`azlon: warning: could not write ${what}: ${errorMessage(error)}\n`);
  const markdown = summaryMarkdown(file, plan.batchDir);
  try {
    writeFileAtomic(join(plan.batchDir, SUMMARY_FILE), markdown);
  } catch (error) {
    warn(SUMMARY_FILE, error);
  }
  if (options.junit) {
    const path = resolve(ctx.cwd, options.junit);
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, batchJunit(file));
    } catch (error) {
      warn(`the JUnit file ${path}`, error);
    }
  }
  if (ctx.env.GITHUB_STEP_SUMMARY) {
    try {
      appendFileSync(ctx.env.GITHUB_STEP_SUMMARY, markdown);
    } catch (error) {
      warn("the GitHub step summary", error);
    }
  }
  const extra = options.extra?.(file);
  if (outcome.environmentError instanceof FatalError) {
    const e = outcome.environmentError;
    ctx.stderr.write(`azlon: ${forTerminal(e.message)}\n`);
    if (e.hint) ctx.stderr.write(`  fix: ${forTerminal(e.hint)}\n`);
    ctx.stderr.write(
      "  the batch stopped: every task needs it; run the same command again once it is back\n",
    );
  }
  if (options.json) {
    const summary: Summary & Record<string, unknown> = {
      ...summaryOf(plan.batchDir, file),
      ...(extra?.json ?? {}),
    };
    ctx.stdout.write(`${safeJson(summary)}\n`);
  } else {
    const lines = totalsRows(file.totals, plan.attempts).map(([k, v]) => `  ${k.padEnd(10)} ${v}`);
    const head = `${file.totals.passed === file.totals.tasks ? "✔" : "✖"} ${file.totals.passed} of ${file.totals.tasks} task${file.totals.tasks === 1 ? "" : "s"} passed${file.stopReason ? ` (stopped: ${file.stopReason})` : ""}`;
    const notPassed = file.tasks.filter((t) => t.status !== "passed");
    const listed = notPassed.slice(0, 20).map((t) => {
      const last = t.attempts
        .map((a) => a.result)
        .filter(Boolean)
        .at(-1);
      return `    ${t.id}: ${t.status}${last?.reason ? ` · ${forTerminal(last.reason).replace(/\s+/g, " ").slice(0, 140)}` : ""}`;
    });
    ctx.stdout.write(
      `${[
        head,
        ...lines,
        ...(extra?.lines ?? []),
        `  folder     ${plan.batchDir}`,
        ...(notPassed.length
          ? [
              "  not passed:",
              ...listed,
              ...(notPassed.length > 20 ? [`    …and ${notPassed.length - 20} more`] : []),
            ]
          : []),
        ...(file.stopReason
          ? ["  to carry on: run the same command again (finished attempts are kept)"]
          : []),
      ].join("\n")}\n`,
    );
  }
  return exitCode(file, outcome, signal);
}
