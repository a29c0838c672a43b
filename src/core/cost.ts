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

/** A dated snapshot's suffix: "-2024-08-06", or the older "-0613". */
const SNAPSHOT = /^(.+)-(\d{4}-\d{2}-\d{2}|\d{4})$/;

/**
 * The price of a model: an exact entry, else the entry of which it is a dated snapshot (so
 * gpt-4o-2024-08-06 uses gpt-4o's price, and gpt-4o-mini-2024-07-18 gpt-4o-mini's). Only
 * dates: o3-pro or gpt-5-pro are other models at other prices, and pricing them as o3 or
 * gpt-5 would under-count a cost budget many times over. Null when unknown.
 */
export function priceFor(model: string, prices: Readonly<Record<string, Price>>): Price | null {
  const own = (name: string) => (Object.hasOwn(prices, name) ? (prices[name] ?? null) : null);
  const exact = own(model);
  if (exact) return exact;
  const snapshot = SNAPSHOT.exec(model);
  return snapshot ? own(snapshot[1] as string) : null;
}

/**
 * The price of a call by the model that served it: a server that ignores the requested model
 * answers with its own id, and a run must not be priced as a model that did not run. No id,
 * the asked model itself, or a dated snapshot of it: the run's own price (which may come from
 * the config). Another model: its entry in the table, or null (the cost is then unknown).
 */
export function servedPrice(
  served: string | null | undefined,
  asked: { model: string; price: Price | null },
  prices: Readonly<Record<string, Price>>,
): Price | null {
  if (!served || isSameModel(served, asked.model)) return asked.price;
  return priceFor(served, prices);
}

/** The served id is the asked model, or a dated snapshot of it (OpenAI answers gpt-4o-2024-08-06). */
export function isSameModel(served: string, asked: string): boolean {
  return served === asked || SNAPSHOT.exec(served)?.[1] === asked;
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
