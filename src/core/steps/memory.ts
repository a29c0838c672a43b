import { boundList, cutEcho, nameList, REASON_CHARS } from "../../util/echo.js";
import { DOCKERFILE } from "../../workspace/paths.js";
import type { IterationSummary, RunState } from "../state.js";
import type { ChecksReport, RoundMemory } from "../types.js";
import type { Rejection } from "./records.js";
import { failedChecks } from "./validate.js";

/**
 * Every earlier round has its line, so a long run never loses a fix that was tried: the last
 * WHOLE_ROUNDS with their reasons whole (up to the bound every echoed reason has), older ones
 * with their reasons' starts, and past MEMORY_ROUNDS the oldest are counted in one line.
 */
const MEMORY_ROUNDS = 60;
const WHOLE_ROUNDS = 10;
const MEMORY_REASON_CHARS = REASON_CHARS;
const OLD_REASON_CHARS = 240;
/** Names of files one round summary lists; the rest are counted. */
const MEMORY_NAMES = 8;
/** Quotes a refused pass's reason names; the rest are counted. */
const MISSING_QUOTES = 5;

/** Quotes as a short list: the first few, each cut, then how many more. */
export function quoteList(quotes: readonly string[]): string {
  const shown = quotes.slice(0, MISSING_QUOTES).map((q) => JSON.stringify(cutEcho(q)));
  return `${shown.join(", ")}${quotes.length > MISSING_QUOTES ? ` and ${quotes.length - MISSING_QUOTES} more` : ""}`;
}

/** Quotes as they are echoed: at most ECHO_ITEMS, each cut. */
export function boundQuotes(quotes: readonly string[]): string[] {
  return boundList(
    quotes.map((q) => cutEcho(q)),
    (left) => `(${left} more quotes)`,
  );
}

/** A short line per earlier round, so the fixer does not go round in circles. */
export function roundMemory(state: RunState, before: number): RoundMemory[] {
  const rounds = state.iterations.filter((i) => i.iteration < before && i.build);
  const shown = rounds.slice(-MEMORY_ROUNDS);
  const service = !!state.options.service;
  const lines = shown.map((i, index) => ({
    iteration: i.iteration,
    summary: describeRound(
      i,
      service,
      index >= shown.length - WHOLE_ROUNDS ? MEMORY_REASON_CHARS : OLD_REASON_CHARS,
    ),
  }));
  const left = rounds.length - shown.length;
  const first = shown[0];
  if (left > 0 && first) {
    lines.unshift({
      iteration: first.iteration - 1,
      summary: `and the ${left} round${left === 1 ? "" : "s"} before it, not shown here (tried and not passed)`,
    });
  }
  return lines;
}

/**
 * The round each path was last written in, up to round n, from run.json (so a resumed run
 * orders its prompt as the first leg did). Deleted paths are gone from the project anyway.
 */
export function changedIn(state: RunState, n: number): Record<string, number> {
  const rounds: Record<string, number> = {};
  for (const i of state.iterations) {
    if (i.iteration > n || !i.changes) continue;
    for (const path of i.changes.written) rounds[path] = i.iteration;
    if (i.changes.dockerfileChanged) rounds[DOCKERFILE] = i.iteration;
  }
  return rounds;
}

function describeRound(i: IterationSummary, service: boolean, reasonChars: number): string {
  const parts: string[] = [];
  if (i.changes) {
    const changed = [...(i.changes.dockerfileChanged ? ["Dockerfile"] : []), ...i.changes.written];
    if (changed.length) parts.push(`wrote ${nameList(changed, MEMORY_NAMES)}`);
    if (i.changes.deleted.length) parts.push(`deleted ${nameList(i.changes.deleted, MEMORY_NAMES)}`);
  }
  if (i.reusedFrom !== undefined) parts.push(`nothing changed, so round ${i.reusedFrom}'s result was reused`);
  if (i.build && !i.build.ok) parts.push(i.build.timedOut ? "build timed out" : "build failed");
  if (i.exec) {
    if (i.exec.timedOut) parts.push("program timed out");
    else if (i.exec.oomKilled) parts.push("program ran out of memory");
    else if (i.exec.exitCode !== null)
      parts.push(`${service ? "service" : "program"} exited ${i.exec.exitCode}`);
    else if (service) parts.push("service ran until azlon stopped it");
    else parts.push("program ended without an exit code");
  }
  if (i.checks) {
    if (i.checks.serviceReady === false) parts.push("service never became ready");
    else parts.push(`checks ${i.checks.passed}/${i.checks.total} passed`);
  }
  if (i.verdict) {
    const reason = cutEcho(i.verdict.reason.replace(/\s+/g, " "), reasonChars);
    // A refused pass already has the refusal as its reason.
    parts.push(i.verdict.passed && !i.verdict.accepted ? reason : `not passed: ${reason}`);
  }
  return parts.join("; ");
}

/** Why azlon refused a claimed pass, in one line for run.json and the summary. */
export function refusalReason(last: Rejection | undefined, checks: ChecksReport | null): string {
  if (last?.by === "checks") {
    const failed = failedChecks(checks);
    return `the judge claimed a pass while checks failed${failed.length ? ` (${nameList(failed, 5)})` : ""}`;
  }
  const missing = last?.missing ?? [];
  return `the judge claimed a pass that the output does not show${
    missing.length ? ` (not found: ${quoteList(missing)})` : ""
  }`;
}
