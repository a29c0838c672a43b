import { iterationsRun, type RunState } from "../core/state.js";
import { formatCount, formatDuration } from "../util/format.js";

/** How a run stands, as its summary's first line says it. */
const HEAD: Record<string, string> = {
  passed: "passed",
  failed: "did not pass",
  interrupted: "interrupted",
  error: "stopped on an error",
  // run.json says running: at the end of `azlon run`, a run that stopped without saying why.
  running: "stopped",
  // What `azlon show` sees of a run that says running: going on now, or its process gone.
  live: "running",
  killed: "killed (its process is gone)",
  queued: "queued",
};

/**
 * The first line of a run's summary, as `azlon run` ends and `azlon show` begins:
 * "✔ passed after 2 iterations · 1.2 s · 1,801 tokens (89 cached)". `shown` is the status
 * `azlon runs` shows (running, killed, queued), when it is not run.json's own.
 */
export function headLine(state: RunState, shown?: string): string {
  const used = state.usage.promptTokens + state.usage.completionTokens;
  const iterations = iterationsRun(state);
  const status = shown === "running" ? "live" : (shown ?? state.status);
  const cached = state.usage.cachedTokens > 0 ? ` (${formatCount(state.usage.cachedTokens)} cached)` : "";
  const mark = state.status === "passed" ? "✔" : status === "live" || status === "queued" ? "…" : "✖";
  return `${mark} ${HEAD[status] ?? status} after ${iterations} iteration${iterations === 1 ? "" : "s"} · ${formatDuration(state.elapsedMs)} · ${formatCount(used)} tokens${cached}`;
}
