import { checkEvidence } from "../evidence.js";
import type {
  CheckResult,
  ChecksReport,
  JudgeFeedback,
  JudgeRequest,
  Model,
  ModelContext,
  Verdict,
  VerdictMode,
} from "../types.js";
import type { Rejection, RoundResult } from "./records.js";

/** What the validate step decided, and how. */
export interface Decision {
  verdict: Verdict;
  /** Whether azlon accepts the verdict: a pass proven by the output and not vetoed by a check. */
  accepted: boolean;
  rejections: Rejection[];
  /** Whether the model was asked at all (with `checks`, passing checks need no judge). */
  asked: boolean;
}

export interface ValidateInput {
  model: Model;
  request: JudgeRequest;
  result: RoundResult;
  checks: ChecksReport | null;
  mode: VerdictMode;
  /** Repair turns allowed after a verdict azlon refused. */
  repairAttempts: number;
  ctx: ModelContext;
  /** Whether a budget ran out (no more repair turns then). */
  budgetReached: () => boolean;
  /** Told about each refused pass, for the journal. */
  onRejected: (attempt: number, rejection: Rejection) => void;
}

/** The checks that did not pass, with why; a service that never became ready counts as one. */
export function failedChecks(checks: ChecksReport | null): string[] {
  if (!checks) return [];
  const failed: string[] = [];
  if (checks.service && !checks.service.ready) failed.push(`the service: ${checks.service.problem}`);
  for (const r of checks.results.filter((c) => !c.passed)) {
    failed.push(`\`${r.command}\`: ${r.problem ?? "failed"}`);
  }
  return failed;
}

/** The checks pass when there were some, each ran and exited 0, and a service became ready. */
function checksPassed(checks: ChecksReport | null, expected: number): boolean {
  return !!checks && checks.results.length === expected && failedChecks(checks).length === 0;
}

function checksVerdict(results: CheckResult[]): Verdict {
  return {
    passed: true,
    reason: `all ${results.length} check${results.length === 1 ? "" : "s"} passed`,
    evidence: results.map((r) => `$ ${r.command} → exit 0`),
    dockerfile: null,
    files: null,
    delete: null,
  };
}

/**
 * The validate step's decision. With `checks` the checks decide and the model is asked only
 * for a fix; with `both` a pass needs every check and the judge's proven word; with `judge`
 * the judge's proven word. A pass claimed against a failing check, or with quotes that are not
 * in the output, is sent back to the judge (bounded), and never accepted.
 */
export async function decide(input: ValidateInput): Promise<Decision> {
  const { request, result, checks, mode } = input;
  const expected = request.checks?.commands.length ?? 0;
  const gated = mode !== "judge" && expected > 0;
  const checksOk = result.build.ok && checksPassed(checks, expected);
  if (mode === "checks" && checksOk && checks) {
    return { verdict: checksVerdict(checks.results), accepted: true, rejections: [], asked: false };
  }

  const feedback: JudgeFeedback[] = [];
  const rejections: Decision["rejections"] = [];
  let verdict: Verdict;
  for (let attempt = 0; ; attempt++) {
    verdict = await input.model.judge(request, feedback, input.ctx);
    if (!verdict.passed) break;
    const by = gated && !checksOk ? "checks" : "evidence";
    const problem = by === "checks" ? vetoed(mode, result, checks) : provePass(verdict, result, checks);
    if (problem === null) return { verdict, accepted: true, rejections, asked: true };
    const rejection: Rejection = { by, missing: problem.missing, problem: problem.text };
    input.onRejected(attempt, rejection);
    feedback.push({ previous: verdict, problem: problem.text });
    rejections.push(rejection);
    if (attempt >= input.repairAttempts || input.budgetReached()) break;
  }
  return { verdict, accepted: false, rejections, asked: true };
}

/** Why a pass cannot stand while checks fail (or never ran). */
function vetoed(
  mode: VerdictMode,
  result: RoundResult,
  checks: ChecksReport | null,
): { missing: string[]; text: string } {
  if (!result.build.ok) return noBuild();
  const failed = failedChecks(checks);
  const list = failed.length ? failed.map((f) => `- ${f}`).join("\n") : "- the checks did not run";
  const lead =
    mode === "checks"
      ? "The user's checks decide whether this run passes, and these did not pass:"
      : "You answered passed, but the run cannot pass while a check fails, and these did not pass:";
  return {
    missing: [],
    text: `${lead}\n${list}\nAnswer passed: false, with a fix that makes every check exit 0.`,
  };
}

function noBuild(): { missing: string[]; text: string } {
  return {
    missing: [],
    text: "The build failed, so the program never ran: nothing can have passed. Answer passed: false with a fix.",
  };
}

/** Why a passing verdict is not accepted, or null when its evidence holds. */
function provePass(
  verdict: Verdict,
  result: RoundResult,
  checks: ChecksReport | null,
): { missing: string[]; text: string } | null {
  if (!result.build.ok || !result.exec) return noBuild();
  // Evidence may quote the program's output or any check's output.
  const outputs = [result.exec.output.text, ...(checks?.results ?? []).map((r) => r.output.text)];
  const check = checkEvidence(verdict.evidence, outputs.join("\n"));
  return check.problem === null ? null : { missing: check.missing, text: check.problem };
}
