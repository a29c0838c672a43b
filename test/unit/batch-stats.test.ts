import { describe, expect, it } from "vitest";
import { mcnemarExact, newcombePaired, passAtK, wilson } from "../../src/batch/stats.js";

describe("pass@k, the unbiased estimator", () => {
  it("is the share that passed for k = 1", () => {
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
    expect(passAtK(4, 0, 1)).toBe(0);
    expect(passAtK(4, 4, 1)).toBe(1);
  });

  it("is 1 - C(n-c, k) / C(n, k): 5 attempts, 2 passed, k = 2 is 1 - 3/10", () => {
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12);
    // k = n: any pass makes it 1.
    expect(passAtK(3, 1, 3)).toBe(1);
  });

  it("takes k larger than the attempts as n, and no attempts as 0", () => {
    expect(passAtK(2, 1, 5)).toBe(1);
    expect(passAtK(0, 0, 1)).toBe(0);
  });

  it("stays exact where the binomials would overflow (n = 2000)", () => {
    expect(passAtK(2000, 1, 1)).toBeCloseTo(1 / 2000, 12);
    expect(Number.isFinite(passAtK(2000, 1000, 100))).toBe(true);
  });
});

describe("the exact McNemar test", () => {
  it("is twice the binomial tail of the smaller discordant count: 1 against 7 is 2 * 9/256", () => {
    expect(mcnemarExact(1, 7)).toBeCloseTo((2 * 9) / 256, 12);
    expect(mcnemarExact(7, 1)).toBeCloseTo((2 * 9) / 256, 12);
  });

  it("is 1 with no discordant task and when they balance", () => {
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(5, 5)).toBe(1);
  });

  it("0 against 6 is 2/64", () => {
    expect(mcnemarExact(0, 6)).toBeCloseTo(2 / 64, 12);
  });

  it("does not underflow on thousands of tasks", () => {
    const p = mcnemarExact(900, 1100);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(0.001);
  });
});

describe("Newcombe's paired interval (method 10), against the paper's own examples", () => {
  // Newcombe 1998, Statistics in Medicine 17:2635, Table II: (e, f, g, h) → the 95% limits.
  it.each([
    [{ both: 36, onlyB: 12, onlyA: 2, neither: 0 }, 0.0569, 0.3404],
    [{ both: 18, onlyB: 12, onlyA: 2, neither: 18 }, 0.0562, 0.329],
    [{ both: 53, onlyB: 0, onlyA: 0, neither: 1 }, -0.0729, 0.0729],
  ])("%o", (counts, lo, hi) => {
    const interval = newcombePaired(counts);
    expect(interval?.[0]).toBeCloseTo(lo, 4);
    expect(interval?.[1]).toBeCloseTo(hi, 4);
  });

  it("is null without pairs, and never leaves [-1, 1]", () => {
    expect(newcombePaired({ both: 0, onlyB: 0, onlyA: 0, neither: 0 })).toBeNull();
    const all = newcombePaired({ both: 0, onlyB: 5, onlyA: 0, neither: 0 });
    expect(all?.[1]).toBeLessThanOrEqual(1);
    expect(all?.[0]).toBeGreaterThan(0);
  });

  it("Wilson's interval of 0 of 10 starts at 0", () => {
    const [lo, hi] = wilson(0, 10);
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(0.2775, 4);
  });
});
