import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Result } from "../../src/engine/result.js";
import { runCli } from "./cli.js";
import { type FakeOpenAI, generation, type RecordedRequest, type Reply } from "./fake-openai.js";
import { BUSYBOX } from "./images.js";

/**
 * `azlon batch <args>` against the loopback model with `key`; the images its runs made go on
 * `images` (removed after the file), and the key never shows on stderr.
 */
export function batchCli(server: FakeOpenAI, images: string[], key: string) {
  return async (args: string[], cwd: string, env: Record<string, string> = {}) => {
    const model = args.includes("--model") ? [] : ["--model", "gpt-test"];
    const baseUrl = args.includes("--base-url") ? [] : ["--base-url", server.url];
    const r = await runCli(["batch", ...args, ...baseUrl, ...model], {
      cwd,
      env: { OPENAI_API_KEY: key, ...env },
    });
    const json = args.includes("--json") && r.stdout.trim() ? JSON.parse(r.stdout) : null;
    for (const t of json?.tasks ?? []) for (const a of t.attempts) if (a.image) images.push(a.image);
    expect(r.stderr).not.toContain(key);
    return { ...r, json };
  };
}

/** Each task's status by its id, from a summary. */
export const statuses = (summary: { tasks: Array<{ id: string; status: string }> }) =>
  Object.fromEntries(summary.tasks.map((t) => [t.id, t.status]));

/** The task a request is about: its prompt carries "[task:<id>]". */
export function taskOf(request: RecordedRequest): string {
  return /\[task:([\w.-]+)\]/.exec(JSON.stringify(request.body?.messages ?? []))?.[1] ?? "?";
}

/** "generation" or "verdict": what the request asks for. */
export function kindOf(request: RecordedRequest): string {
  return request.body?.response_format?.json_schema?.name ?? "?";
}

/** How many generation requests each task had. */
export function generationsByTask(server: FakeOpenAI): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of server.chatRequests.filter((r) => kindOf(r) === "generation")) {
    counts[taskOf(r)] = (counts[taskOf(r)] ?? 0) + 1;
  }
  return counts;
}

/** A task's answers: its generation, and its judge's replies in turn (the last one repeats). */
export interface TaskScript {
  generate: Reply;
  judge?: Reply[];
}

/** Answers each request by the task it is about, so that tasks running at once get their own. */
export function routeByTask(server: FakeOpenAI, scripts: Record<string, TaskScript>): void {
  const judged: Record<string, number> = {};
  server.fallback = (request) => {
    const id = taskOf(request);
    const script = scripts[id];
    if (!script) return { status: 500, error: { message: `no script for task ${id}` } };
    if (kindOf(request) === "generation") return script.generate;
    const n = judged[id] ?? 0;
    judged[id] = n + 1;
    const replies = script.judge ?? [];
    return (
      replies[Math.min(n, replies.length - 1)] ?? { status: 500, error: { message: `no verdict for ${id}` } }
    );
  };
}

/** A BusyBox project whose program prints `text` (after `sleep` seconds). */
export function printer(text: string, sleep = 0): Reply {
  return generation(`FROM ${BUSYBOX}\nCOPY run.sh /run.sh\nCMD ["sh", "/run.sh"]\n`, {
    "run.sh": `${sleep ? `sleep ${sleep}\n` : ""}echo "${text}"\n`,
  });
}

/** A jsonl line of a task whose prompt names it for routeByTask. */
export function taskLine(id: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    prompt: `[task:${id}] a program that prints its name`,
    tests: `it prints ${id}`,
    ...extra,
  });
}

/** The run folders under an attempt's folder. */
export function runFoldersOf(attemptDir: string): string[] {
  return readdirSync(attemptDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(attemptDir, e.name));
}

/** A result as a finished run would have it. */
export function fakeResult(
  id: string,
  status: Result["status"],
  tokens = 1000,
  costUsd: number | null = 0.01,
): Result {
  return {
    schemaVersion: 1,
    status,
    stopReason:
      status === "passed"
        ? "passed"
        : status === "failed"
          ? "max-iterations"
          : status === "interrupted"
            ? "interrupted"
            : "error",
    errorCategory: status === "error" ? "model" : null,
    runId: `20261205-000000-${id}-0000`,
    iterations: 2,
    runDir: null,
    image: null,
    reason: status === "passed" ? "all checks passed" : "not passed after 2 iterations",
    evidence: [],
    rejectedEvidence: [],
    verdict: "checks",
    checks: null,
    usage: { promptTokens: tokens, completionTokens: 0, cachedTokens: 0 },
    costUsd,
    durationMs: 1000,
    patch: null,
    branch: null,
    commit: null,
    applied: null,
  };
}

/**
 * A batch folder as `azlon batch` leaves it, made directly: batch.json and each attempt's
 * attempt.json and result.json (no run folders), for the commands that only read folders.
 */
export function fakeBatchFolder(
  dir: string,
  tasks: Array<{ id: string; results: Result[] }>,
  options: { source?: string; shard?: { index: number; total: number } | null } = {},
): void {
  mkdirSync(dir, { recursive: true });
  const list = tasks.map(({ id, results }) => {
    results.forEach((result, i) => {
      const attemptDir = join(dir, "runs", id, String(i + 1));
      mkdirSync(attemptDir, { recursive: true });
      writeFileSync(join(attemptDir, "attempt.json"), JSON.stringify({ run: result.runId }));
      writeFileSync(join(attemptDir, "result.json"), JSON.stringify(result));
    });
    return {
      id,
      format: "jsonl",
      source: `tasks.jsonl line 1`,
      status: results.some((r) => r.status === "passed") ? "passed" : (results[0]?.status ?? "pending"),
      attempts: results.map((result, i) => ({ attempt: i + 1, dir: `runs/${id}/${i + 1}`, result })),
    };
  });
  const attempts = Math.max(1, ...tasks.map((t) => t.results.length));
  writeFileSync(
    join(dir, "batch.json"),
    JSON.stringify({
      schemaVersion: 1,
      batchId: "fake",
      source: options.source ?? "/tasks.jsonl",
      mergedFrom: null,
      createdAt: "2026-12-05T00:00:00.000Z",
      updatedAt: "2026-12-05T00:00:00.000Z",
      status: "finished",
      stopReason: null,
      options: {
        attempts,
        concurrency: 1,
        shard: options.shard ?? null,
        oracle: false,
        model: "m",
        maxCostUsd: null,
        maxTimeMs: null,
      },
      elapsedMs: 1000,
      tasks: list,
      totals: {
        tasks: 0,
        passed: 0,
        failed: 0,
        error: 0,
        passAt1: 0,
        passAtK: 0,
        tokens: 0,
        costUsd: null,
        durationMs: 1000,
      },
    }),
  );
}

/** Whether a run folder's events show it reached `phase` ("build", "run", ...). */
export function hasPhase(runDir: string, phase: string): boolean {
  try {
    return readFileSync(join(runDir, "events.jsonl"), "utf8").includes(`"phase":"${phase}"`);
  } catch {
    return false;
  }
}
