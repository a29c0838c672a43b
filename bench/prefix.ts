/**
 * How much of each judge request repeats the previous one byte for byte: the part an endpoint's
 * prefix cache can serve. Five rounds of a 7-file project (over 30 KB) in which one small file
 * changes per round; the request is the JSON body the SDK sends (model, messages, response_format).
 * The project's layout is carried from round to round as the loop carries it, so the figures
 * include the stale copies it keeps (the request sizes show what they add).
 */
import type { IterationSummary, RunState } from "../src/core/state.js";
import { changedIn } from "../src/core/steps/memory.js";
import { nextLayout } from "../src/core/steps/prompt-layout.js";
import type { BuildResult, ExecResult, FileEntry, JudgeRequest, PromptLayout } from "../src/core/types.js";
import { requestBody } from "../src/model/openai-model.js";
import { VerdictSchema } from "../src/model/schemas.js";
import { judgeMessages } from "../src/prompts/compose.js";
import { loadTemplates } from "../src/prompts/templates.js";

export const PREFIX_GOAL = 0.85;
const ROUNDS = 5;

/** Deterministic filler text of about `bytes` bytes, so the project is the same every run. */
function text(name: string, bytes: number): string {
  const lines: string[] = [];
  for (let i = 0; lines.join("\n").length < bytes; i++) {
    lines.push(`# ${name} line ${i}: value_${(i * 7919) % 1000} = compute(${i}, "${name}")`);
  }
  return `${lines.join("\n")}\n`;
}

const DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["python", "main.py"]\n';

function project(): FileEntry[] {
  return [
    { path: "app/models.py", content: text("models", 9000) },
    { path: "app/store.py", content: text("store", 7000) },
    { path: "app/api.py", content: text("api", 6000) },
    { path: "data/fixtures.json", content: text("fixtures", 5000) },
    { path: "README.md", content: text("readme", 2500) },
    { path: "tests/test_api.py", content: text("tests", 1500) },
    { path: "main.py", content: text("main", 600) },
  ];
}

const build: BuildResult = {
  ok: true,
  timedOut: false,
  log: { text: "", totalBytes: 0, truncated: false },
  durationMs: 1200,
  imageId: "sha256:bench",
  cause: null,
};

function run(round: number): ExecResult {
  const lines = Array.from(
    { length: 30 },
    (_, i) => `CHECK ${i}: ${i === round ? "FAIL" : "PASS"} (round ${round})`,
  );
  const output = `${lines.join("\n")}\n`;
  return {
    exitCode: 1,
    timedOut: false,
    oomKilled: false,
    signal: null,
    output: { text: output, totalBytes: output.length, truncated: false },
    durationMs: 300,
  };
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

export interface PrefixFigures {
  projectBytes: number;
  /** Per consecutive pair (round 2 against 1, ...): the shared prefix / the later request. */
  shares: number[];
  /** Each round's request, in bytes. */
  requestBytes: number[];
}

/** The requests of five rounds; `changing(round)` names the file the answer of that round rewrote. */
export function prefixShares(changing: (round: number) => string): PrefixFigures {
  const { bodies, projectBytes } = prefixRequests(changing);
  const shares = bodies.slice(1).map((body, i) => commonPrefix(bodies[i] as string, body) / body.length);
  return { projectBytes, shares, requestBytes: bodies.map((b) => Buffer.byteLength(b)) };
}

/** The five rounds' judge requests as JSON bodies, as azlon sends them. */
export function prefixRequests(changing: (round: number) => string): {
  bodies: string[];
  projectBytes: number;
} {
  const templates = loadTemplates();
  const ctx = {
    limits: {
      memoryBytes: 1024 ** 3,
      cpus: 1,
      pids: 256,
      network: "none" as const,
      runTimeoutMs: 60_000,
      buildTimeoutMs: 600_000,
    },
    baseImage: null,
  };
  const files = project();
  const iterations: IterationSummary[] = [
    {
      iteration: 1,
      changes: { written: files.map((f) => f.path), deleted: [], refused: [], dockerfileChanged: true },
      build: { ok: true, timedOut: false, durationMs: 1200 },
    },
  ];
  const state = { iterations } as RunState;
  const bodies: string[] = [];
  // Kept from round to round, as the loop keeps it.
  let layout: PromptLayout | undefined;
  for (let round = 1; round <= ROUNDS; round++) {
    if (round > 1) {
      const path = changing(round);
      const file = files.find((f) => f.path === path);
      if (!file) throw new Error(`no file ${path}`);
      file.content = file.content.replace(
        /line 3( \(fixed in round \d+\))?:/,
        `line 3 (fixed in round ${round}):`,
      );
      iterations.push({
        iteration: round,
        changes: { written: [path], deleted: [], refused: [], dockerfileChanged: false },
        build: { ok: true, timedOut: false, durationMs: 1200 },
        verdict: undefined,
      });
    }
    const request: JudgeRequest = {
      prompt:
        "A small inventory service with an HTTP API, its models and a store, and a script that checks it.",
      tests: "The output shows CHECK lines 0 to 29, each PASS.",
      iteration: round,
      maxIterations: 20,
      dockerfile: DOCKERFILE,
      files: files.map((f) => ({ ...f })),
      build,
      exec: run(round),
      checks: null,
      checkResults: null,
      refused: [],
      history: iterations
        .filter((i) => i.iteration < round)
        .map((i) => ({
          iteration: i.iteration,
          summary: `wrote ${i.changes?.written.join(", ")}; program exited 1`,
        })),
      changedIn: changedIn(state, round),
    };
    layout = nextLayout(layout, request);
    request.layout = layout;
    // The previous round's verdict is known once this round starts.
    const last = iterations.find((i) => i.iteration === round - 1);
    if (last) last.verdict = { passed: false, accepted: false, reason: `check ${round - 1} failed` };
    const messages = judgeMessages(templates, ctx, request);
    bodies.push(
      // The body exactly as azlon builds it for the SDK (which sends it in this order).
      JSON.stringify(
        requestBody(
          {
            model: "gpt-4o-mini",
            temperature: null,
            baseUrl: "https://api.openai.com/v1",
            maxReplyTokens: 16384,
          },
          messages,
          { schema: VerdictSchema, name: "verdict" },
        ),
      ),
    );
  }
  return { bodies, projectBytes: files.reduce((n, f) => n + Buffer.byteLength(f.content), 0) };
}

/** The file each scenario changes in a round. */
export const SMALL_FILES = ["main.py", "tests/test_api.py", "README.md"];

/** The same small file fixed every round, and a different small file each round. */
export function prefixScenarios(): Array<{ name: string; figures: PrefixFigures }> {
  const small = SMALL_FILES;
  return [
    { name: "same file each round", figures: prefixShares(() => "main.py") },
    {
      name: "a different file each round",
      figures: prefixShares((round) => small[round % small.length] as string),
    },
  ];
}
