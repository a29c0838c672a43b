import { hostname } from "node:os";
import type { RunState } from "../../src/core/state.js";
import { tempDir } from "./tmp.js";

/** Text a model could write to break out of a page: it must stay text. */
export const HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>';

const options = {
  model: "gpt-test",
  baseUrl: null,
  maxIterations: 3,
  limits: {
    memoryBytes: 512 * 1024 ** 2,
    cpus: 1,
    pids: 256,
    network: "none",
    runTimeoutMs: 60_000,
    buildTimeoutMs: 300_000,
  },
  budgets: { maxTokens: null, maxCostUsd: null, maxTimeMs: null },
  checks: { commands: ["sh /azlon/checks/t.sh"], dir: null, hide: false, timeoutMs: 60_000 },
  verdict: "both",
};

function state(over: Partial<RunState>): RunState {
  return {
    version: 1,
    runId: "20261125-greet-abc123",
    createdAt: "2026-11-25T04:00:00.000Z",
    updatedAt: "2026-11-25T04:01:00.000Z",
    input: { prompt: "a script that greets", tests: "it prints hello, world" },
    options: options as unknown as RunState["options"],
    status: "passed",
    stopReason: "passed",
    reason: "the checks passed and the output shows hello, world",
    progress: { iteration: 2, step: "done" },
    iterations: [],
    usage: { promptTokens: 1234, completionTokens: 567, cachedTokens: 89 },
    costUsd: 0.0123,
    elapsedMs: 61_000,
    legs: [],
    image: "azlon-greet:abc123",
    structuredOutputMode: "json_schema",
    ...over,
  };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** A run that failed round 1 and passed round 2, with checks, a verdict and changes per round. */
export function passedRun(): string {
  return tempDir({
    "run.json": json(
      state({
        iterations: [
          {
            iteration: 1,
            build: { ok: true, timedOut: false, durationMs: 1200 },
            exec: {
              exitCode: 3,
              timedOut: false,
              oomKilled: false,
              signal: null,
              durationMs: 40,
              outputBytes: 12,
              truncated: false,
            },
            checks: { passed: 0, total: 1, serviceReady: null },
            verdict: { passed: false, accepted: false, reason: "prints hello, wrld" },
          },
          {
            iteration: 2,
            build: { ok: true, timedOut: false, durationMs: 900 },
            exec: {
              exitCode: 0,
              timedOut: false,
              oomKilled: false,
              signal: null,
              durationMs: 30,
              outputBytes: 13,
              truncated: false,
            },
            checks: { passed: 1, total: 1, serviceReady: null },
            verdict: { passed: true, accepted: true, reason: "prints hello, world" },
          },
        ],
      }),
    ),
    "events.jsonl": "",
    "workspace/Dockerfile": 'FROM busybox:latest\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n',
    "workspace/greet.sh": 'echo "hello, world"\n',
    "iterations/01/output.log": "hello, wrld\n",
    "iterations/01/checks.json": json({
      service: null,
      results: [
        {
          command: "sh /azlon/checks/t.sh",
          exitCode: 1,
          timedOut: false,
          passed: false,
          problem: "exit 1",
          output: { text: "want hello, world\n", totalBytes: 18, truncated: false },
          durationMs: 20,
        },
      ],
    }),
    "iterations/01/verdict.json": json({
      passed: false,
      accepted: false,
      reason: "prints hello, wrld",
      evidence: ["hello, wrld"],
      dockerfile: null,
      files: null,
      delete: null,
      rejections: [],
      decidedBy: "both",
    }),
    "iterations/01/changes.json": json([
      {
        path: "Dockerfile",
        before: null,
        after: 'FROM busybox:latest\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n',
      },
      { path: "greet.sh", before: null, after: 'echo "hello, wrld"\nexit 3\n' },
    ]),
    "iterations/02/output.log": "hello, world\n",
    "iterations/02/checks.json": json({
      service: null,
      results: [
        {
          command: "sh /azlon/checks/t.sh",
          exitCode: 0,
          timedOut: false,
          passed: true,
          problem: null,
          output: { text: "", totalBytes: 0, truncated: false },
          durationMs: 20,
        },
      ],
    }),
    "iterations/02/verdict.json": json({
      passed: true,
      accepted: true,
      reason: "prints hello, world",
      evidence: ["hello, world"],
      dockerfile: null,
      files: null,
      delete: null,
      rejections: [],
      decidedBy: "both",
    }),
    "iterations/02/changes.json": json([
      { path: "greet.sh", before: 'echo "hello, wrld"\nexit 3\n', after: 'echo "hello, world"\n' },
    ]),
  });
}

/**
 * A run that hit its cap of 2 rounds: round 1's build failed (so its program never ran), round
 * 2 ran and printed 40 KB; the model's words carry markup in the verdicts, a file and the output.
 */
export function failedRun(): string {
  return tempDir({
    "run.json": json(
      state({
        status: "failed",
        stopReason: "max-iterations",
        reason: `2 rounds without a pass: ${HOSTILE}`,
        image: "azlon-greet:abc123",
        costUsd: null,
        progress: { iteration: 3, step: "apply" },
        options: { ...options, maxIterations: 2 } as unknown as RunState["options"],
        iterations: [
          {
            iteration: 1,
            changes: { written: ["page.html"], deleted: [], refused: [], dockerfileChanged: true },
            build: { ok: false, timedOut: false, durationMs: 500, cause: `pull access denied ${HOSTILE}` },
            exec: null,
            verdict: { passed: false, accepted: false, reason: HOSTILE },
          },
          {
            iteration: 2,
            changes: { written: [], deleted: [], refused: [], dockerfileChanged: true },
            build: { ok: true, timedOut: false, durationMs: 700 },
            exec: {
              exitCode: 1,
              timedOut: false,
              oomKilled: false,
              signal: null,
              durationMs: 30,
              outputBytes: 40_100,
              truncated: true,
            },
            verdict: { passed: true, accepted: false, reason: `it prints it ${HOSTILE}` },
          },
        ],
      }),
    ),
    "events.jsonl": "",
    "workspace/Dockerfile": "FROM busybox:latest\n",
    "workspace/page.html": `<html>${HOSTILE}</html>\n`,
    "iterations/01/build.log": `step 1: FROM nowhere\nerror: pull access denied ${HOSTILE}\n`,
    "iterations/01/verdict.json": json({
      passed: false,
      accepted: false,
      reason: HOSTILE,
      evidence: [HOSTILE],
      dockerfile: null,
      files: null,
      delete: null,
      rejections: [],
      decidedBy: "judge",
    }),
    "iterations/01/changes.json": json([
      { path: "Dockerfile", before: null, after: "FROM nowhere\n" },
      { path: "page.html", before: null, after: `<html>${HOSTILE}</html>\n` },
    ]),
    "iterations/02/output.log": `${"x".repeat(40_000)}\n${HOSTILE}\n`,
    "iterations/02/verdict.json": json({
      passed: true,
      accepted: false,
      reason: `it prints it ${HOSTILE}`,
      evidence: ["it prints it"],
      dockerfile: null,
      files: null,
      delete: null,
      rejections: [{ problem: "a quote is not in the output", missing: ["it prints it"] }],
      decidedBy: "judge",
    }),
    "iterations/02/changes.json": json([
      { path: "Dockerfile", before: "FROM nowhere\n", after: "FROM busybox:latest\n" },
    ]),
  });
}

/**
 * A run stopped by Ctrl-C in round 2, after its program ran and before its checks: round 1 is
 * done, round 2 has no outcome yet. `killed` leaves it as a run whose process died unawares:
 * run.json still says running, its last leg's process is gone.
 */
export function interruptedRun(options: { killed?: boolean } = {}): string {
  const round2 = {
    iteration: 2,
    changes: { written: ["greet.sh"], deleted: [], refused: [], dockerfileChanged: false },
    build: { ok: true, timedOut: false, durationMs: 800 },
    exec: {
      exitCode: 0,
      timedOut: false,
      oomKilled: false,
      signal: null,
      durationMs: 20,
      outputBytes: 13,
      truncated: false,
    },
  };
  return tempDir({
    "run.json": json(
      state({
        status: options.killed ? "running" : "interrupted",
        stopReason: options.killed ? null : "interrupted",
        reason: options.killed ? null : "interrupted (SIGINT)",
        image: "azlon-greet:abc123",
        progress: { iteration: 2, step: "check" },
        // A process number no process has: the leg's driver is gone.
        legs: [
          {
            startedAt: "2026-11-25T04:00:00.000Z",
            endedAt: null,
            status: "running",
            pid: 2 ** 22 + 1,
            host: hostname(),
          },
        ],
        iterations: [
          {
            iteration: 1,
            changes: { written: ["greet.sh"], deleted: [], refused: [], dockerfileChanged: true },
            build: { ok: true, timedOut: false, durationMs: 1000 },
            exec: { ...round2.exec, exitCode: 3 },
            checks: { passed: 0, total: 1, serviceReady: null },
            verdict: { passed: false, accepted: false, reason: "prints hello, wrld" },
          },
          round2,
        ],
      }),
    ),
    "events.jsonl": "",
    "workspace/Dockerfile": 'FROM busybox:latest\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n',
    "workspace/greet.sh": 'echo "hello, world"\n',
    "iterations/01/output.log": "hello, wrld\n",
    "iterations/01/checks.json": json({
      service: null,
      results: [
        {
          command: "sh /azlon/checks/t.sh",
          exitCode: 1,
          timedOut: false,
          passed: false,
          problem: "exit 1",
          output: { text: "want hello, world\n", totalBytes: 18, truncated: false },
          durationMs: 20,
        },
      ],
    }),
    "iterations/02/output.log": "hello, world\n",
  });
}
