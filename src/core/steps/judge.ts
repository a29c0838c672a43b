import { cutEcho, REASON_CHARS } from "../../util/echo.js";
import { RunStateError } from "../errors.js";
import type { RunContext, StepOutcome } from "../run-context.js";
import { checksOf, summaryFor, verdictOf } from "../state.js";
import type { ChecksReport, JudgeRequest } from "../types.js";
import { boundQuotes, changedIn, refusalReason, roundMemory } from "./memory.js";
import { nextLayout } from "./prompt-layout.js";
import { askToRead, readBefore, readsFor } from "./read.js";
import { CHECKS_FILE, RESULT_FILE, type RoundResult, VERDICT_FILE, type VerdictRecord } from "./records.js";
import { decide } from "./validate.js";

/**
 * The judge's request for round n: the task, the project (all of it, or for a large project of
 * the user's, its map and the files that matter), the round's result and what it remembers.
 */
async function judgeRequest(
  ctx: RunContext,
  n: number,
  result: RoundResult,
  checkResults: ChecksReport | null,
): Promise<JudgeRequest> {
  const { state, deps } = ctx;
  const written = changedIn(state, n);
  const record = state.source;
  // Of the user's project, the judge sees the files the first request showed, the files read
  // in earlier rounds and the files azlon wrote; the map names the rest.
  const focus = record
    ? [...new Set([...record.context, ...readBefore(ctx, n), ...Object.keys(written)])]
    : null;
  const project = await deps.store.snapshot(focus ?? undefined);
  // Asked again after a read in the same round: the same layout, so the request repeats the last.
  if (ctx.layoutRound !== n) {
    ctx.layout = nextLayout(ctx.layout, { ...project, iteration: n, changedIn: written });
    ctx.layoutRound = n;
  }
  const summary = summaryFor(state, n);
  return {
    prompt: state.input.prompt,
    tests: state.input.tests,
    iteration: n,
    maxIterations: state.options.maxIterations,
    dockerfile: project.dockerfile,
    files: project.files,
    build: result.build,
    exec: result.exec,
    checks: deps.checks ?? null,
    checkResults,
    refused: summary.changes?.refused ?? [],
    history: roundMemory(state, n),
    changedIn: written,
    deleted: summary.changes?.deleted ?? [],
    reusedFrom: summary.reusedFrom,
    layout: ctx.layout,
    projectMap:
      record && deps.source ? await deps.source.map(`${state.input.prompt}\n${state.input.tests}`) : null,
    reads: await readsFor(ctx, n, "validate"),
  };
}

/**
 * The validate step: the checks and the judge decide (a pass must be proven); a fix goes to
 * the next round's apply step, an ask to read to the read step, a pass to the end (through
 * the deliver step in a run from the user's project).
 */
export async function validateStep(ctx: RunContext, n: number): Promise<StepOutcome> {
  const { state, deps } = ctx;
  const { store } = deps;
  ctx.emit({ type: "phase", phase: "validate", iteration: n });
  const result = store.readIterationJson<RoundResult>(n, RESULT_FILE);
  if (!result) throw new RunStateError(`the run folder lacks the result of iteration ${n}`);
  const checkResults = checksOf(state.options).commands.length
    ? store.readIterationJson<ChecksReport>(n, CHECKS_FILE)
    : null;
  const mode = verdictOf(state.options);
  const decision = await decide({
    model: deps.model,
    request: await judgeRequest(ctx, n, result, checkResults),
    result,
    checks: checkResults,
    mode,
    repairAttempts: state.options.repairAttempts,
    ctx: ctx.modelContext(n),
    budgetReached: () => ctx.budgetReached() !== null,
    onRejected: (attempt, { by, missing, problem }) =>
      ctx.emit({
        type: "evidence.rejected",
        iteration: n,
        attempt,
        by,
        missing: boundQuotes(missing),
        problem,
      }),
  });
  const { verdict, accepted } = decision;
  if (!verdict.passed && askToRead(ctx, n, "validate", verdict.read)) return;
  const rejections = decision.rejections.map((r) => ({ ...r, missing: boundQuotes(r.missing) }));
  const decidedBy = decision.asked ? mode : "checks";
  const record: VerdictRecord = { ...verdict, accepted, rejections, decidedBy };
  store.writeIterationJson(n, VERDICT_FILE, record);
  // verdict.json keeps the judge's words whole; what is echoed of them is bounded.
  const reason = cutEcho(verdict.reason, REASON_CHARS);
  const unproven = verdict.passed && !accepted;
  summaryFor(state, n).verdict = {
    passed: verdict.passed,
    accepted,
    // The reason of a pass azlon refused is the refusal, not the judge's claim.
    reason: unproven ? refusalReason(decision.rejections.at(-1), checkResults) : reason,
  };
  ctx.emit({
    type: "verdict",
    iteration: n,
    passed: verdict.passed,
    accepted,
    reason,
    evidence: boundQuotes(verdict.evidence),
    decidedBy,
  });
  if (verdict.passed && accepted) {
    if (!state.source) return { stop: "passed", reason };
    state.progress = { iteration: n, step: "deliver" };
    ctx.save();
    return;
  }
  ctx.pending = { iteration: n + 1, changes: verdict };
  state.progress = { iteration: n + 1, step: "apply" };
  ctx.save();
}
