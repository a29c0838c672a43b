import { describe, expect, it } from "vitest";
import { costOf, DEFAULT_PRICES, type Price, priceFor, servedPrice } from "../../src/core/cost.js";
import { CostMeter } from "../../src/core/cost-meter.js";
import { UsageError } from "../../src/core/errors.js";
import { freshState } from "../helpers/fakes.js";

describe("priceFor", () => {
  it.each([
    ["gpt-4o", "gpt-4o"],
    ["gpt-4o-mini", "gpt-4o-mini"],
    ["gpt-4o-2024-08-06", "gpt-4o"],
    ["gpt-4o-mini-2024-07-18", "gpt-4o-mini"],
    ["gpt-4.1-2025-04-14", "gpt-4.1"],
    ["gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"],
    ["gpt-5-2025-08-07", "gpt-5"],
    ["o3", "o3"],
    ["o4-mini-2025-04-16", "o4-mini"],
    ["gpt-4.1-nano-0613", "gpt-4.1-nano"],
  ])("%s is priced as %s", (model, entry) => {
    expect(priceFor(model, DEFAULT_PRICES)).toBe(DEFAULT_PRICES[entry]);
  });

  it.each([
    ["llama3.1:8b"],
    ["gpt-4"],
    ["gpt-4o2"],
    ["openai/gpt-4o"],
    ["mistral-large-latest"],
    ["toString"],
    [""],
  ])("%j is unknown: null", (model) => {
    expect(priceFor(model, DEFAULT_PRICES)).toBeNull();
  });

  it.each([
    // Different models with a known model's name in front cost something else; guessing could
    // under-count a --max-cost budget many times over.
    ["o3-pro"],
    ["o3-mini"],
    ["gpt-5-pro"],
    ["gpt-4o-realtime-preview"],
  ])("%s is a different model, not priced as its prefix", (model) => {
    expect(priceFor(model, DEFAULT_PRICES)).toBeNull();
  });

  it("uses prices from the config, exact or by dated snapshot", () => {
    const prices: Record<string, Price> = { ...DEFAULT_PRICES, "my-model": { input: 1, output: 2 } };
    expect(priceFor("my-model", prices)).toEqual({ input: 1, output: 2 });
    expect(priceFor("my-model-2025-01-01", prices)).toEqual({ input: 1, output: 2 });
  });
});

describe("costOf", () => {
  const price: Price = { input: 2.5, cachedInput: 1.25, output: 10 };

  it("charges prompt and completion tokens per million", () => {
    expect(costOf({ promptTokens: 1_000_000, completionTokens: 100_000, cachedTokens: 0 }, price)).toBe(3.5);
  });

  it("charges cached prompt tokens at the cached price", () => {
    // 600k fresh at 2.5 + 400k cached at 1.25 + 0 output
    expect(costOf({ promptTokens: 1_000_000, completionTokens: 0, cachedTokens: 400_000 }, price)).toBe(2);
  });

  it("charges cached tokens at the input price when there is no cached price", () => {
    expect(
      costOf(
        { promptTokens: 1_000_000, completionTokens: 0, cachedTokens: 400_000 },
        { input: 2, output: 8 },
      ),
    ).toBe(2);
  });

  it("never counts more cached tokens than prompt tokens", () => {
    expect(costOf({ promptTokens: 1000, completionTokens: 0, cachedTokens: 5000 }, price)).toBe(0.00125);
  });

  it("rounds to a millionth of a dollar", () => {
    expect(costOf({ promptTokens: 1, completionTokens: 1, cachedTokens: 0 }, price)).toBe(0.000013);
  });

  it("is null when the price is unknown", () => {
    expect(costOf({ promptTokens: 10, completionTokens: 10, cachedTokens: 0 }, null)).toBeNull();
  });

  it("is zero for no tokens", () => {
    expect(costOf({ promptTokens: 0, completionTokens: 0, cachedTokens: 0 }, price)).toBe(0);
  });
});

describe("pricing by the model that served the call", () => {
  const mini = DEFAULT_PRICES["gpt-4o-mini"] as Price;
  const asked = { model: "gpt-4o-mini", price: mini };

  it("the asked model, a dated snapshot of it, or no id: the run's own price", () => {
    expect(servedPrice(null, asked, DEFAULT_PRICES)).toBe(mini);
    expect(servedPrice("gpt-4o-mini", asked, DEFAULT_PRICES)).toBe(mini);
    expect(servedPrice("gpt-4o-mini-2024-07-18", asked, DEFAULT_PRICES)).toBe(mini);
  });

  it("another model: its own price, or none", () => {
    expect(servedPrice("gpt-4o", asked, DEFAULT_PRICES)).toBe(DEFAULT_PRICES["gpt-4o"]);
    expect(servedPrice("llama-3.1-8b", asked, DEFAULT_PRICES)).toBeNull();
  });

  it("sums each call at its served price; one unknown price makes the run's cost unknown", () => {
    const state = freshState({ model: "gpt-4o-mini", price: mini });
    const meter = new CostMeter(state);
    const million = { promptTokens: 1_000_000, completionTokens: 0, cachedTokens: 0 };
    expect(meter.add(million, "gpt-4o-mini-2024-07-18")).toBeNull();
    expect(state.costUsd).toBeCloseTo(0.15, 6);
    expect(meter.add(million, "gpt-4o")).toContain('priced as "gpt-4o"');
    expect(meter.add(million, "gpt-4o")).toBeNull(); // said once
    expect(state.costUsd).toBeCloseTo(5.15, 6);
    meter.check(); // no cost budget: nothing to refuse
    expect(meter.add(million, "llama-3.1-8b")).toContain("has no price");
    expect(state.costUsd).toBeNull();
  });

  it("refuses a cost budget it can no longer keep", () => {
    const state = freshState({ model: "gpt-4o-mini", price: mini });
    state.options.budgets.maxCostUsd = 10;
    const meter = new CostMeter(state);
    meter.add({ promptTokens: 1, completionTokens: 1, cachedTokens: 0 }, "llama-3.1-8b");
    expect(() => meter.check()).toThrow(UsageError);
  });

  it("prices by the config's own table, kept in the run's options", () => {
    const state = freshState({
      model: "gpt-4o-mini",
      price: mini,
      prices: { "my-model": { input: 1, output: 2 } },
    });
    new CostMeter(state).add(
      { promptTokens: 1_000_000, completionTokens: 1_000_000, cachedTokens: 0 },
      "my-model",
    );
    expect(state.costUsd).toBe(3);
  });
});
