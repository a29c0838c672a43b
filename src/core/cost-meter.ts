import { costOf, DEFAULT_PRICES, isSameModel, type Price, servedPrice } from "./cost.js";
import { UsageError } from "./errors.js";
import type { RunState } from "./state.js";
import type { Usage } from "./types.js";

/**
 * Prices a run call by call, by the model that served each call: a server that ignores the
 * requested model answers with its own id, and azlon must not bill the run as a model that
 * did not run. One call without a price makes the run's cost unknown (null).
 */
export class CostMeter {
  private readonly prices: Readonly<Record<string, Price>>;
  private readonly told = new Set<string>();
  private unpriced: string | null = null;

  constructor(private readonly state: RunState) {
    this.prices = { ...DEFAULT_PRICES, ...(state.options.prices ?? {}) };
  }

  /**
   * Adds one call to state.costUsd. Returns what to tell the user the first time the endpoint
   * serves another model than the one asked for, else null.
   */
  add(usage: Usage, served: string | null | undefined): string | null {
    const { options } = this.state;
    const price = servedPrice(served, options, this.prices);
    const cost = costOf(usage, price);
    const total = this.state.costUsd;
    this.state.costUsd = total === null || cost === null ? null : Math.round((total + cost) * 1e6) / 1e6;
    if (!served || isSameModel(served, options.model)) return null;
    if (price === null) this.unpriced = served;
    if (this.told.has(served)) return null;
    this.told.add(served);
    return `the endpoint served model "${served}" when asked for "${options.model}"; ${
      price ? `the cost is priced as "${served}"` : `"${served}" has no price, so the cost is unknown`
    }`;
  }

  /** A cost budget cannot be kept for a served model without a price: stop, as at the start. */
  check(): void {
    if (this.unpriced === null || this.state.options.budgets.maxCostUsd === null) return;
    throw new UsageError(
      `--max-cost needs a price for model "${this.unpriced}", which the endpoint served when asked for "${this.state.options.model}", and azlon's price table has none`,
      `add it to the config: prices: { "${this.unpriced}": { input: 0.5, output: 1.5 } } (USD per million tokens) and start again, or use --max-tokens`,
    );
  }
}
