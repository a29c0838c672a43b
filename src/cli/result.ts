import { iterationsRun, type RunState } from "../core/state.js";

/**
 * The --json result object of SPEC.md, for a run (its state) or for a failure before any run
 * started (null): CI gets exactly one such object on stdout either way.
 */
export function resultObject(
  state: RunState | null,
  fields: { runDir?: string | null; reason?: string } = {},
) {
  return {
    status: !state || state.status === "running" ? "error" : state.status,
    stopReason: state?.stopReason ?? "error",
    iterations: state ? iterationsRun(state) : 0,
    runDir: null as string | null,
    image: state?.image ?? null,
    reason: state?.reason ?? null,
    usage: {
      promptTokens: state?.usage.promptTokens ?? 0,
      completionTokens: state?.usage.completionTokens ?? 0,
      cachedTokens: state?.usage.cachedTokens ?? 0,
    },
    costUsd: state?.costUsd ?? null,
    durationMs: state?.elapsedMs ?? 0,
    ...fields,
  };
}
