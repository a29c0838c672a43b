import type { Usage } from "./types.js";

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
  /** Prompt tokens served from the endpoint's cache; defaults to the input price. */
  cachedInput?: number | undefined;
}

/**
 * List prices of common OpenAI models (USD per 1M tokens) as published when this table was
 * written. Override or extend them with `prices` in the config; unknown models count tokens only.
 */
export const DEFAULT_PRICES: Readonly<Record<string, Price>> = {
  "gpt-5": { input: 1.25, cachedInput: 0.125, output: 10 },
  "gpt-5-mini": { input: 0.25, cachedInput: 0.025, output: 2 },
  "gpt-5-nano": { input: 0.05, cachedInput: 0.005, output: 0.4 },
  "gpt-4.1": { input: 2, cachedInput: 0.5, output: 8 },
  "gpt-4.1-mini": { input: 0.4, cachedInput: 0.1, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, cachedInput: 0.025, output: 0.4 },
  "gpt-4o": { input: 2.5, cachedInput: 1.25, output: 10 },
  "gpt-4o-mini": { input: 0.15, cachedInput: 0.075, output: 0.6 },
  o3: { input: 2, cachedInput: 0.5, output: 8 },
  "o4-mini": { input: 1.1, cachedInput: 0.275, output: 4.4 },
};

/**
 * The price of a model: an exact entry, else the longest entry the id starts with followed by
 * "-" (so dated snapshots such as gpt-4o-2024-08-06 use gpt-4o's price, and gpt-4o-mini-...
 * uses gpt-4o-mini's). Null when unknown.
 */
export function priceFor(model: string, prices: Readonly<Record<string, Price>>): Price | null {
  const exact = prices[model];
  if (exact) return exact;
  let best: string | null = null;
  for (const name of Object.keys(prices)) {
    if (model.startsWith(`${name}-`) && (best === null || name.length > best.length)) best = name;
  }
  return best === null ? null : (prices[best] ?? null);
}

export function costOf(usage: Usage, price: Price | null): number | null {
  if (!price) return null;
  const cached = Math.min(usage.cachedTokens, usage.promptTokens);
  const fresh = usage.promptTokens - cached;
  const usd =
    (fresh * price.input +
      cached * (price.cachedInput ?? price.input) +
      usage.completionTokens * price.output) /
    1e6;
  return Math.round(usd * 1e6) / 1e6;
}
