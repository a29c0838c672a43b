import { describe, expect, it } from "vitest";
import type { Budgets } from "../../src/core/state.js";
import { freshState, passed } from "../helpers/fakes.js";
import { generate, harness, judge } from "../helpers/loop-harness.js";

const budgets = (b: Partial<Budgets>): Budgets => ({
  maxTokens: null,
  maxCostUsd: null,
  maxTimeMs: null,
  ...b,
});

/**
 * A pass the output does not prove gets repair turns, but not once a budget is spent: each
 * turn is a judge call, and a judge that keeps claiming a pass would spend the budget again
 * for every turn it is allowed.
 */
describe("a refused pass meets a spent budget: no repair turn", () => {
  // Every scripted call uses 150 tokens. The judge would go on claiming an unproven pass.
  const unproven = passed(["ALL 12 TESTS PASSED"]);
  const script = () => [
    generate({ "hello.sh": "echo hello" }),
    judge(unproven),
    judge(unproven),
    judge(unproven),
  ];

  it("the token budget: one judge call, the run stops with max-tokens within its budget", async () => {
    const h = harness(script(), [{ output: "hello\n" }]);
    const { state } = await h.run(freshState({ budgets: budgets({ maxTokens: 300 }) }));
    expect(h.model.judged).toHaveLength(1);
    expect(state).toMatchObject({ status: "failed", stopReason: "max-tokens" });
    expect(state.usage.promptTokens + state.usage.completionTokens).toBe(300);
    // The refusal is on record all the same.
    expect(h.events.filter((e) => e.type === "evidence.rejected")).toHaveLength(1);
    expect(state.iterations[0]?.verdict).toMatchObject({ passed: true, accepted: false });
  });

  it("the cost budget: one judge call, the run stops with max-cost within its budget", async () => {
    const h = harness(script(), [{ output: "hello\n" }]);
    const price = { input: 1000, output: 1000 }; // $0.15 per 150-token call
    const { state } = await h.run(freshState({ price, budgets: budgets({ maxCostUsd: 0.3 }) }));
    expect(h.model.judged).toHaveLength(1);
    expect(state).toMatchObject({ status: "failed", stopReason: "max-cost" });
    expect(state.costUsd).toBeCloseTo(0.3, 6);
  });

  it("with budget left, the same refused pass gets its repair turns", async () => {
    const h = harness(script(), [{ output: "hello\n" }]);
    const { state } = await h.run(freshState({ maxIterations: 1, budgets: budgets({ maxTokens: 10_000 }) }));
    // The first claim and the two repair turns the defaults allow.
    expect(h.model.judged).toHaveLength(3);
    expect(state.stopReason).toBe("max-iterations");
  });
});
