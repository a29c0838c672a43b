// The one wording of a run's results, for the terminal, the page and `azlon report` alike
// (plain ES module: the browser loads it, the CLI and the report import it). A round, a build,
// a run of the program, the checks, a verdict and a cost read the same wherever they are shown.
import { formatBytes, formatCount, formatDuration } from "./format.js";

/** What a run costs when azlon has no price for its model. */
export const NO_PRICE = "unknown (no price for this model)";

/**
 * The run's cost: "$0.0123", or NO_PRICE; `short` for a table cell ("unknown").
 * @param {number | null | undefined} usd
 * @param {{ short?: boolean }} [options]
 * @returns {string}
 */
export function costText(usd, options = {}) {
  if (usd === null || usd === undefined) return options.short ? "unknown" : NO_PRICE;
  return `$${usd.toFixed(4)}`;
}

/**
 * Tokens used: "1,234 prompt (89 cached), 567 completion".
 * @param {{ promptTokens?: number, completionTokens?: number, cachedTokens?: number } | null | undefined} usage
 * @returns {string}
 */
export function tokensText(usage) {
  const n = (v) => formatCount(v ?? 0);
  return `${n(usage?.promptTokens)} prompt (${n(usage?.cachedTokens)} cached), ${n(usage?.completionTokens)} completion`;
}

/**
 * How many files a round's apply step wrote: its files, and the Dockerfile when it changed (a
 * file of the project like any other, whose diff the page and the report show).
 * @param {{ written: string[], dockerfileChanged?: boolean }} changes
 * @returns {number}
 */
export function filesWritten(changes) {
  return changes.written.length + (changes.dockerfileChanged ? 1 : 0);
}

/**
 * A round's changes in a few words: "2 files written, 1 deleted, 1 refused".
 * @param {{ written: string[], deleted: string[], refused?: unknown[], dockerfileChanged?: boolean }} changes
 * @returns {string}
 */
export function changesText(changes) {
  const n = filesWritten(changes);
  const refused = changes.refused?.length ? `, ${changes.refused.length} refused` : "";
  const deleted = changes.deleted.length ? `, ${changes.deleted.length} deleted` : "";
  return `${n} file${n === 1 ? "" : "s"} written${deleted}${refused}`;
}

/**
 * The image build: "built in 1.2 s", "build failed after 500 ms: <the builder's cause>",
 * "build timed out after 10 m 00 s".
 * @param {{ ok: boolean, timedOut: boolean, durationMs: number, cause?: string | null }} build
 * @returns {string}
 */
export function buildText(build) {
  const took = formatDuration(build.durationMs);
  if (build.ok) return `built in ${took}`;
  if (build.timedOut) return `build timed out after ${took}`;
  return `build failed after ${took}${build.cause ? `: ${build.cause}` : ""}`;
}

/**
 * The program's run: "ran: exit 0 in 40 ms, 12 B of output".
 * @param {{ exitCode: number | null, timedOut: boolean, oomKilled?: boolean, signal?: string | null,
 *   durationMs: number, outputBytes?: number, truncated?: boolean }} exec
 * @returns {string}
 */
export function execText(exec) {
  const how = exec.timedOut
    ? "timed out"
    : exec.oomKilled
      ? "ran out of memory"
      : exec.signal
        ? `killed by ${exec.signal}`
        : `exit ${exec.exitCode}`;
  const size = `${formatBytes(exec.outputBytes ?? 0)} of output${exec.truncated ? ", cut for the model" : ""}`;
  return `ran: ${how} in ${formatDuration(exec.durationMs)}, ${size}`;
}

/** Whether the program's run counts as a good one (exit 0 in time). */
export function execOk(exec) {
  return exec.exitCode === 0 && !exec.timedOut;
}

/**
 * The checks: "checks: 1/2 passed", or why none ran beside a service.
 * @param {{ passed: number, total: number, serviceReady?: boolean | null }} checks
 * @param {string | null} [problem] why the service was not ready, when known
 * @returns {string}
 */
export function checksText(checks, problem) {
  if (checks.serviceReady === false) return `service not ready${problem ? `: ${problem}` : ""}`;
  return `checks: ${checks.passed}/${checks.total} passed`;
}

/**
 * A verdict in a word or three: "passed" (azlon accepted the pass), "pass not accepted" (the
 * judge claimed one its quotes or the checks did not prove), "not passed".
 * @param {{ passed: boolean, accepted: boolean }} verdict
 * @returns {string}
 */
export function verdictText(verdict) {
  return verdict.accepted ? "passed" : verdict.passed ? "pass not accepted" : "not passed";
}

/**
 * A round that built and ran nothing because nothing had changed.
 * @param {number} from the round whose result it reused
 * @returns {string}
 */
export function reusedText(from) {
  return `nothing changed: round ${from}'s result reused (not built or run again)`;
}

/**
 * A round's outcome in a word or three, its badge: "build failed" or "build timed out" when
 * its program never ran (the judge's "not passed" would hide why), else the verdict's word;
 * "" while it has none yet.
 * @param {any} s a round's summary from run.json
 * @returns {string}
 */
export function roundOutcome(s) {
  if (s.build && !s.build.ok) return s.build.timedOut ? "build timed out" : "build failed";
  return s.verdict ? verdictText(s.verdict) : "";
}

/**
 * What stands in for a round's output when the program did not run: its build failed, or it
 * reused an earlier round's result. Null when it ran (or has not run yet).
 * @param {any} s a round's summary from run.json
 * @returns {string | null}
 */
export function outputNote(s) {
  if (s.build && !s.build.ok)
    return `the build ${s.build.timedOut ? "timed out" : "failed"}, so the program did not run (the build log is below)`;
  if (s.reusedFrom !== undefined)
    return `the program did not run again: round ${s.reusedFrom}'s output stands`;
  return null;
}

/**
 * A round's steps in short phrases: changes, build, run, checks and tokens (the verdict is
 * shown apart, with its reason).
 * @param {any} s a round's summary from run.json
 * @returns {string[]}
 */
export function phaseParts(s) {
  const parts = [];
  if (s.changes) parts.push(changesText(s.changes));
  if (s.reusedFrom !== undefined) parts.push(reusedText(s.reusedFrom));
  if (s.build) parts.push(buildText(s.build));
  if (s.exec) parts.push(execText(s.exec));
  if (s.checks) parts.push(checksText(s.checks));
  if (s.usage)
    parts.push(
      `tokens: ${formatCount(s.usage.promptTokens ?? 0)} in, ${formatCount(s.usage.completionTokens ?? 0)} out`,
    );
  return parts;
}
