import { describe, expect, it } from "vitest";
import { colorEnabled, type OutStream } from "../../src/cli/io.js";
import { HumanReporter } from "../../src/cli/reporter.js";
import { spinnerWanted } from "../../src/cli/session.js";
import type { LoopEvent } from "../../src/core/events.js";

function buffer(isTTY = false) {
  const out = { text: "", isTTY, write: (s: string) => (out.text += s) };
  return out;
}

const usage = { promptTokens: 1, completionTokens: 1, cachedTokens: 0 };
const events: LoopEvent[] = [
  {
    type: "run.started",
    runId: "r1",
    runDir: "/x",
    resumed: false,
    iteration: 1,
    maxIterations: 3,
    model: "m",
  },
  { type: "phase", phase: "build", iteration: 1 },
  { type: "build.finished", iteration: 1, ok: true, timedOut: false, durationMs: 1200, image: "azlon/r1" },
  { type: "phase", phase: "run", iteration: 1 },
  {
    type: "exec.finished",
    iteration: 1,
    exitCode: null,
    timedOut: true,
    oomKilled: false,
    signal: "SIGKILL",
    durationMs: 300_000,
    outputBytes: 2048,
    truncated: false,
  },
  {
    type: "changes.applied",
    iteration: 2,
    written: ["a.py"],
    deleted: [],
    refused: [{ path: "../x", reason: "escapes the workspace" }],
    dockerfileChanged: false,
    notes: [],
  },
  {
    type: "verdict",
    iteration: 2,
    passed: true,
    accepted: false,
    reason: "claims",
    evidence: [],
    decidedBy: "judge",
  },
  {
    type: "run.finished",
    status: "failed",
    stopReason: "max-iterations",
    reason: "x",
    iterations: 2,
    usage,
    costUsd: null,
    durationMs: 1,
  } as LoopEvent,
];

describe("the human reporter", () => {
  it("writes plain lines, one per step, with the iteration, when there is no spinner", async () => {
    const out = buffer();
    const reporter = await HumanReporter.create({
      stream: out,
      color: false,
      spinner: false,
      maxIterations: 3,
    });
    for (const e of events) reporter.handle(e);
    expect(out.text).toContain("iteration 1/3 building the image...");
    expect(out.text).toContain("✔ iteration 1/3 built in 1.2 s");
    expect(out.text).toContain("✖ iteration 1/3 ran: timed out in 5 m 00 s, 2 KiB of output");
    expect(out.text).toContain('! refused "../x": escapes the workspace');
    expect(out.text).toContain("pass not accepted");
    expect(out.text).not.toContain("\u001b["); // no colour codes
  });

  it("says when a round reuses an unchanged round's result", async () => {
    const out = buffer();
    const reporter = await HumanReporter.create({
      stream: out,
      color: false,
      spinner: false,
      maxIterations: 3,
    });
    reporter.handle({ type: "execute.reused", iteration: 2, from: 1 });
    expect(out.text).toContain(
      "✔ iteration 2/3 nothing changed: round 1's result reused (not built or run again)",
    );
  });

  it("shows hostile model and endpoint text without its escape sequences, and bounded", async () => {
    const osc52 = "\u001b]52;c;cm0gLXJmIH4=\u0007";
    const title = "\u001b]0;pwned\u001b\\";
    const hostile: LoopEvent[] = [
      {
        type: "verdict",
        iteration: 1,
        passed: false,
        accepted: false,
        reason: `no${osc52}${title} \u009b2J`,
        evidence: [],
        decidedBy: "judge",
      },
      { type: "warning", message: `careful\u001b[2J\u001b[H${osc52}` },
      { type: "model.http", status: null, error: `boom${title}`, durationMs: 1, attempt: 1 },
      {
        type: "model.call",
        purpose: "judge",
        iteration: 1,
        turn: 0,
        mode: "json_schema",
        outcome: "refusal",
        detail: `refused: ${"\u001b[31m".repeat(3)}${"x".repeat(5000)}`,
        finishReason: "stop",
        usage,
        durationMs: 1,
        reply: null,
      },
      {
        type: "changes.applied",
        iteration: 1,
        written: [],
        deleted: [],
        refused: [{ path: `a\u001b]0;t\u0007\u009b31mb`, reason: "escapes the workspace" }],
        dockerfileChanged: false,
        notes: [],
      },
    ];
    for (const color of [false, true]) {
      const out = buffer();
      const reporter = await HumanReporter.create({ stream: out, color, spinner: false, maxIterations: 3 });
      for (const e of hostile) reporter.handle(e);
      // Only the reporter's own colour codes (CSI ... m) may be there, and only with colour on.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing the reporter's own codes
      const own = out.text.replace(/\u001b\[[0-9;]*m/g, "");
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
      expect(own).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(out.text).not.toContain("]52;");
      expect(out.text).not.toContain("pwned");
      expect(out.text).toContain("not passed: no");
      expect(out.text).toContain('refused "ab"');
      expect(out.text).toContain("(4809 more characters)");
      expect(out.text.length).toBeLessThan(2000);
    }
  });

  it("colours only when asked", async () => {
    const out = buffer();
    const reporter = await HumanReporter.create({
      stream: out,
      color: true,
      spinner: false,
      maxIterations: 3,
    });
    reporter.handle(events[2] as LoopEvent);
    expect(out.text).toContain("\u001b[");
  });

  it("spins only for a person at a terminal with a width, never in CI", () => {
    const tty = { write: () => true, isTTY: true, columns: 100 };
    expect(spinnerWanted({ env: {}, cwd: "/", stdout: tty, stderr: tty })).toBe(true);
    expect(spinnerWanted({ env: { CI: "true" }, cwd: "/", stdout: tty, stderr: tty })).toBe(false);
    const pipe = { write: () => true, isTTY: false };
    expect(spinnerWanted({ env: {}, cwd: "/", stdout: pipe, stderr: pipe })).toBe(false);
    const zeroWidth = { write: () => true, isTTY: true, columns: 0 };
    expect(spinnerWanted({ env: {}, cwd: "/", stdout: zeroWidth, stderr: zeroWidth })).toBe(false);
  });
});

describe("the reporter's lines for failed model requests", () => {
  async function lines(...http: Array<Partial<Extract<LoopEvent, { type: "model.http" }>>>) {
    const out = buffer();
    const reporter = await HumanReporter.create({
      stream: out,
      color: false,
      spinner: false,
      maxIterations: 3,
    });
    for (const e of http) {
      reporter.handle({ type: "model.http", status: null, error: null, durationMs: 1, attempt: 1, ...e });
    }
    return out.text;
  }

  it("an unreachable endpoint is unreachable, not 'answered with an error'", async () => {
    const text = await lines({ error: "connection refused (127.0.0.1:8080)", retryInMs: 500 });
    expect(text).toBe(
      "! cannot reach the endpoint: connection refused (127.0.0.1:8080); retrying in 500 ms\n",
    );
  });

  it("a capped Retry-After says what was asked and what caps it", async () => {
    const text = await lines({ status: 429, retryInMs: 60_000, askedWaitMs: 3_600_000 });
    expect(text).toContain(
      "the endpoint answered 429; retrying in 1 m 00 s (it asked for 60 m 00 s; maxRetryWait caps the wait)",
    );
  });

  it("a reply that broke off after its status says both; a whole 200 says nothing", async () => {
    const text = await lines(
      { status: 200, error: "the reply broke off mid-way (the connection was reset)" },
      { status: 200, error: null },
    );
    expect(text).toBe(
      "! the endpoint answered 200, but the reply broke off mid-way (the connection was reset)\n",
    );
  });
});

describe("colours", () => {
  const tty = { write: () => true, isTTY: true, columns: 80 };
  const pipe = { write: () => true, isTTY: false };
  const ctx = (env: Record<string, string>, stderr: OutStream = tty) => ({
    env,
    cwd: "/",
    stdout: stderr,
    stderr,
  });
  it("are on at a terminal, off with NO_COLOR (any value), off in a pipe unless FORCE_COLOR", () => {
    expect(colorEnabled(ctx({}))).toBe(true);
    expect(colorEnabled(ctx({ NO_COLOR: "1" }))).toBe(false);
    expect(colorEnabled(ctx({ NO_COLOR: "yes", FORCE_COLOR: "1" }))).toBe(false);
    expect(colorEnabled(ctx({}, pipe))).toBe(false);
    expect(colorEnabled(ctx({ FORCE_COLOR: "1" }, pipe))).toBe(true);
  });
});
