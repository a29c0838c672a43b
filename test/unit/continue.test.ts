import { describe, expect, it } from "vitest";
import { continueCommand, limitsReached, shellQuote } from "../../src/cli/continue.js";
import type { RunState } from "../../src/core/state.js";
import { freshState } from "../helpers/fakes.js";

const DIR = "/work/azlon-runs/20261124-214800-greet-3f9a";

function stopped(edit: (s: RunState) => void): RunState {
  const state = freshState({ maxIterations: 3 });
  state.status = "failed";
  state.progress = { iteration: 2, step: "apply" };
  edit(state);
  return state;
}

describe("the command that continues a run", () => {
  it("after the iteration cap, raises --max-iterations (a plain resume would stop at once)", () => {
    const state = stopped((s) => {
      s.stopReason = "max-iterations";
      s.progress = { iteration: 4, step: "apply" };
    });
    expect(continueCommand(state, DIR)).toBe(`azlon resume ${DIR} --max-iterations 6`);
  });

  it("after the token budget, raises --max-tokens", () => {
    const state = stopped((s) => {
      s.options.budgets.maxTokens = 1500;
      s.usage = { promptTokens: 1200, completionTokens: 600, cachedTokens: 0 };
    });
    expect(continueCommand(state, DIR)).toBe(`azlon resume ${DIR} --max-tokens 3000`);
  });

  it("after the cost budget, raises --max-cost", () => {
    const state = stopped((s) => {
      s.options.budgets.maxCostUsd = 0.25;
      s.costUsd = 0.3;
    });
    expect(continueCommand(state, DIR)).toBe(`azlon resume ${DIR} --max-cost 0.5`);
  });

  it("after the time budget, raises --max-time", () => {
    const state = stopped((s) => {
      s.options.budgets.maxTimeMs = 4000;
      s.elapsedMs = 3995;
    });
    expect(continueCommand(state, DIR)).toBe(`azlon resume ${DIR} --max-time 8`);
  });

  it("raises every limit that was reached", () => {
    const state = stopped((s) => {
      s.progress = { iteration: 4, step: "apply" };
      s.options.budgets.maxTokens = 100;
      s.usage = { promptTokens: 100, completionTokens: 50, cachedTokens: 0 };
    });
    expect(limitsReached(state).map((l) => l.flag)).toEqual(["--max-iterations", "--max-tokens"]);
    expect(continueCommand(state, DIR)).toBe(`azlon resume ${DIR} --max-iterations 6 --max-tokens 200`);
  });

  it("an interrupted run, or one that stopped on an error, needs no raised limit", () => {
    const state = stopped((s) => {
      s.status = "interrupted";
      s.progress = { iteration: 2, step: "execute" };
    });
    expect(limitsReached(state)).toEqual([]);
    expect(continueCommand(state, DIR)).toBe(`azlon resume ${DIR}`);
  });

  it("never suggests more than the 1000 iterations the config allows", () => {
    const at = (cap: number) =>
      stopped((s) => {
        s.options.maxIterations = cap;
        s.progress = { iteration: cap + 1, step: "apply" };
      });
    expect(limitsReached(at(600))[0]?.raised).toBe(1000);
    expect(limitsReached(at(1000))[0]?.raised).toBeNull();
  });

  it("quotes a folder the shell would split", () => {
    expect(shellQuote("/tmp/my runs/x")).toBe("'/tmp/my runs/x'");
    expect(shellQuote("/tmp/it's")).toBe("'/tmp/it'\\''s'");
    expect(shellQuote(DIR)).toBe(DIR);
  });
});
