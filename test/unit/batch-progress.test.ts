import { describe, expect, it } from "vitest";
import { BatchProgress } from "../../src/batch/progress.js";
import type { RunState } from "../../src/core/state.js";
import { fakeResult } from "../helpers/batch.js";

function stream() {
  const chunks: string[] = [];
  return { chunks, write: (text: string) => chunks.push(text), text: () => chunks.join("") };
}

const state = (tokens: number, costUsd: number | null) =>
  ({ usage: { promptTokens: tokens, completionTokens: 0, cachedTokens: 0 }, costUsd }) as RunState;

describe("batch progress", () => {
  it("in CI: a plain line as each attempt starts and ends, and the totals", () => {
    let now = 0;
    const out = stream();
    const progress = new BatchProgress({ stream: out, live: false, total: 2, now: () => now });
    progress.handle({ type: "attempt.started", taskId: "a", attempt: 1, resumed: false, runDir: "/r" });
    progress.handle({ type: "attempt.started", taskId: "b", attempt: 1, resumed: true, runDir: "/r2" });
    now = 5000;
    progress.handle({
      type: "attempt.finished",
      taskId: "a",
      attempt: 1,
      result: fakeResult("a", "passed", 1200, 0.0042),
      warnings: [],
    });
    progress.handle({
      type: "attempt.finished",
      taskId: "b",
      attempt: 1,
      result: { ...fakeResult("b", "failed"), reason: "not passed \u001b[31mred\u001b[0m after 2" },
      warnings: [],
    });
    progress.close();
    const lines = out.text().trimEnd().split("\n");
    expect(lines[0]).toBe("[0/2] a #1 started");
    expect(lines[1]).toBe("[0/2] b #1 resumed");
    expect(lines[2]).toBe("[1/2] ✔ a #1 passed after 2 iterations · 1.0 s · 1,200 tokens · $0.0042");
    // A model's reason never moves the cursor or recolours the terminal.
    expect(lines[3]).toBe(
      "[2/2] ✖ b #1 failed after 2 iterations · 1.0 s · 1,000 tokens · $0.0100 · not passed red after 2",
    );
    expect(lines[4]).toMatch(
      /^2\/2 done · 1 passed · 1 failed · 0 error · 0 running · 2,200 tokens · \$0\.0142 · 5\.0 s$/,
    );
    expect(out.text()).not.toContain("\u001b[");
  });

  it("on a terminal: a table of the attempts in flight, redrawn in place, with the totals and an ETA", () => {
    let now = 0;
    const out = stream();
    const progress = new BatchProgress({ stream: out, live: true, total: 3, now: () => now });
    progress.handle({ type: "attempt.started", taskId: "alpha", attempt: 1, resumed: false, runDir: "/r" });
    progress.handle({
      type: "attempt.event",
      taskId: "alpha",
      attempt: 1,
      event: {
        type: "run.started",
        runId: "x",
        runDir: "/r",
        resumed: false,
        iteration: 1,
        maxIterations: 5,
        model: "m",
      },
      state: state(0, 0),
    });
    progress.handle({
      type: "attempt.event",
      taskId: "alpha",
      attempt: 1,
      event: { type: "phase", phase: "build", iteration: 2 },
      state: state(3400, 0.0012),
    });
    now = 12_000;
    progress.handle({ type: "attempt.started", taskId: "beta", attempt: 1, resumed: false, runDir: "/r" });
    const table = out.chunks.at(-1) ?? "";
    expect(table).toMatch(/^ {2}alpha #1 +building +2\/5 +3,400 tok +\$0\.0012 +12\.0 s$/m);
    expect(table).toMatch(/^ {2}beta #1 +starting/m);
    expect(table).toContain("0/3 done · 0 passed · 0 failed · 0 error · 2 running");
    // The previous table is erased before the next is drawn (cursor up, clear below).
    expect(out.chunks).toContain("\u001b[2A\u001b[J");
    now = 20_000;
    progress.handle({
      type: "attempt.finished",
      taskId: "alpha",
      attempt: 1,
      result: fakeResult("alpha", "passed"),
      warnings: [],
    });
    expect(out.text()).toContain("[1/3] ✔ alpha #1 passed");
    expect(out.chunks.at(-1)).toContain("· ETA");
    progress.close();
  });
});
