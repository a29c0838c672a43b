import type { RunState } from "../core/state.js";

/** The most iterations the config allows (ConfigSchema's maxIterations). */
const MAX_ITERATIONS = 1000;

/** A limit the run has reached: resumed as it is, it would stop again at once. */
export interface ReachedLimit {
  /** The flag of `azlon resume` that raises it. */
  flag: string;
  /** A value that lets the run go on, or null when the limit is at its most already. */
  raised: number | null;
  /** "its cap of 20 iterations", "its token budget (1,500 of 1,500 tokens)". */
  what: string;
}

/** Twice the limit: as much again as the run has had. */
const twice = (n: number, decimals = 0): number => Number((n * 2).toFixed(decimals));

/** The limits the run has reached (several can be), each with the flag that raises it. */
export function limitsReached(state: RunState): ReachedLimit[] {
  const o = state.options;
  const reached: ReachedLimit[] = [];
  const { iteration, step } = state.progress;
  if (step === "apply" && iteration > o.maxIterations) {
    const cap = o.maxIterations;
    reached.push({
      flag: "--max-iterations",
      raised: cap >= MAX_ITERATIONS ? null : Math.min(MAX_ITERATIONS, twice(cap)),
      what: `its cap of ${cap} iteration${cap === 1 ? "" : "s"}`,
    });
  }
  const { maxTokens, maxCostUsd, maxTimeMs } = o.budgets;
  const used = state.usage.promptTokens + state.usage.completionTokens;
  if (maxTokens !== null && used >= maxTokens) {
    reached.push({
      flag: "--max-tokens",
      raised: Math.max(twice(maxTokens), used + 1),
      what: `its token budget (${used} of ${maxTokens} tokens used)`,
    });
  }
  if (maxCostUsd !== null && state.costUsd !== null && state.costUsd >= maxCostUsd) {
    reached.push({
      flag: "--max-cost",
      raised: Math.max(twice(maxCostUsd, 4), Number((state.costUsd + 0.0001).toFixed(4))),
      what: `its cost budget ($${state.costUsd.toFixed(4)} of $${maxCostUsd} spent)`,
    });
  }
  // Less than a second left is "at once" too (and spares a timer that fired a hair early).
  if (maxTimeMs !== null && state.elapsedMs >= maxTimeMs - 1000) {
    const seconds = maxTimeMs / 1000;
    reached.push({
      flag: "--max-time",
      raised: Math.ceil(Math.max(seconds * 2, state.elapsedMs / 1000 + 1)),
      what: `its time budget (${Math.round(seconds)} s)`,
    });
  }
  return reached;
}
