import type { RawChanges, ReplyLimits } from "../workspace/paths.js";
import { CostMeter } from "./cost-meter.js";
import type { EventSink, LoopEvent, StopReason } from "./events.js";
import { type RunState, summaryFor } from "./state.js";
import { roundSteps } from "./steps/execute.js";
import type { RunStore } from "./store.js";
import {
  addUsage,
  type CheckView,
  type Model,
  type ModelContext,
  type ProjectSource,
  type PromptLayout,
  type Sandbox,
  zeroUsage,
} from "./types.js";

/** The loop's collaborators; it constructs none of them. */
export interface LoopDeps {
  model: Model;
  sandbox: Sandbox;
  store: RunStore;
  /** The reporter: how events look to the user. The journal is written by the loop itself. */
  report: EventSink;
  /** Milliseconds, monotonic enough for durations. */
  now: () => number;
  /** Recorded on the leg, so `resume` can tell a live run from a killed one. */
  legInfo?: { pid: number; host: string; start?: string | null };
  /** The user's checks as the model is shown them (read from the checks folder), if any. */
  checks?: CheckView | null;
  /** The user's project the run starts from (--from); absent for a new project. */
  source?: ProjectSource | null;
}

/** What a step may say besides naming the next one: the run ends here. */
export type StepOutcome = undefined | { stop: StopReason; reason: string };

/** Everything a step works with: the run, its collaborators, and what one leg keeps in memory. */
export interface RunContext {
  state: RunState;
  deps: LoopDeps;
  /** Aborts on Ctrl-C and when the time budget runs out. */
  signal: AbortSignal;
  emit: (event: LoopEvent) => void;
  /** Writes run.json, with the time spent so far. */
  save: () => void;
  /** A token or cost budget the run has used up, or null. */
  budgetReached: () => { stop: StopReason; reason: string } | null;
  modelContext: (iteration: number) => ModelContext;
  replyLimits: ReplyLimits;
  /** The build, run and check steps. */
  rounds: ReturnType<typeof roundSteps>;
  /** The answer as the model gave it (the run folder's copy has secrets masked), until applied. */
  pending: { iteration: number; changes: RawChanges } | null;
  /**
   * How the judge's requests show the project, kept so that each repeats the one before. Not
   * kept across a resume: the first request after one lays the project out afresh.
   */
  layout?: PromptLayout;
  /** The round the layout was made for. */
  layoutRound?: number;
}

function budgetReached(state: RunState): { stop: StopReason; reason: string } | null {
  const { maxTokens, maxCostUsd } = state.options.budgets;
  const used = state.usage.promptTokens + state.usage.completionTokens;
  if (maxTokens !== null && used >= maxTokens) {
    return { stop: "max-tokens", reason: `token budget reached: ${used} tokens used of ${maxTokens}` };
  }
  // A call served by a model without a price made the cost unknown: a cost budget cannot be
  // kept (the leg that made the call stopped there; a resumed one stops before any call).
  if (maxCostUsd !== null && state.costUsd === null) {
    return {
      stop: "max-cost",
      reason: `cost budget cannot be kept: the run's cost is unknown (a call was served by a model azlon has no price for)`,
    };
  }
  if (maxCostUsd !== null && state.costUsd !== null && state.costUsd >= maxCostUsd) {
    return {
      stop: "max-cost",
      reason: `cost budget reached: $${state.costUsd.toFixed(4)} spent of $${maxCostUsd}`,
    };
  }
  return null;
}

/** The context of one leg of a run: the journal and run.json written as events happen. */
export function createRunContext(state: RunState, deps: LoopDeps, signal: AbortSignal): RunContext {
  const { store, report, now } = deps;
  const legStart = now();
  const elapsedBefore = state.elapsedMs;
  const meter = new CostMeter(state);
  const save = (): void => {
    // Whole milliseconds: run.json and the --json result are read by people and scripts.
    state.elapsedMs = Math.round(elapsedBefore + (now() - legStart));
    state.updatedAt = new Date().toISOString();
    store.saveState(state);
  };
  const emit = (event: LoopEvent): void => {
    let notice: string | null = null;
    if (event.type === "model.call") {
      state.usage = addUsage(state.usage, event.usage);
      const round = summaryFor(state, event.iteration);
      round.usage = addUsage(round.usage ?? zeroUsage(), event.usage);
      notice = meter.add(event.usage, event.servedModel);
    }
    store.record(event);
    report(event);
    // Tokens are spent: run.json knows at once, so a kill -9 does not undercount the budget.
    if (event.type === "model.call") save();
    if (notice) emit({ type: "warning", message: notice });
    if (event.type === "model.call") meter.check();
  };
  const options = state.options;
  return {
    state,
    deps,
    signal,
    emit,
    save,
    budgetReached: () => budgetReached(state),
    modelContext: (iteration) => ({ signal, iteration, emit }),
    replyLimits: {
      maxFiles: options.maxFiles,
      maxFileBytes: options.maxFileBytes,
      maxPathLength: options.maxPathLength,
    },
    rounds: roundSteps({ state, store, sandbox: deps.sandbox, emit, save }),
    pending: null,
  };
}
