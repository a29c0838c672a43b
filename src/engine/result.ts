import { z } from "zod";
import {
  ConfigError,
  EnvironmentError,
  FatalError,
  ModelReplyError,
  RunStateError,
  UsageError,
} from "../core/errors.js";
import { checksOf, iterationsRun, type RunState, verdictOf } from "../core/state.js";
import { CHECKS_FILE, VERDICT_FILE, type VerdictRecord } from "../core/steps/records.js";
import type { ChecksReport } from "../core/types.js";
import type { RunFolder } from "../workspace/run-folder.js";

const UsageSchema = z.object({
  promptTokens: z.int().min(0),
  completionTokens: z.int().min(0),
  cachedTokens: z.int().min(0),
});

const CheckSchema = z.object({
  command: z.string(),
  passed: z.boolean(),
  exitCode: z.int().nullable(),
  timedOut: z.boolean(),
  problem: z.string().nullable().describe("why it did not pass, in words; null when it passed"),
  durationMs: z.int().min(0),
});

const TrustStatusSchema = z
  .enum(["base", "changed", "added", "missing", "builtin", "unverified"])
  .describe(
    "as the FROM image has it (base), replaced or added by the model's build, not there, a builtin of the shell, or not comparable",
  );

const TrustSchema = z
  .object({
    checkImage: z
      .string()
      .nullable()
      .describe("the trusted image the checks ran in (--check-image); null: the project's image"),
    base: z.string().nullable().describe("the FROM image the project's files were compared with"),
    shell: z
      .object({ path: z.string(), status: TrustStatusSchema })
      .nullable()
      .describe("the shell the checks ran with; a shell not the FROM image's runs no check"),
    commands: z
      .array(
        z.object({
          command: z.string(),
          word: z.string(),
          path: z.string().nullable(),
          status: TrustStatusSchema,
        }),
      )
      .describe("each check's first word as the image's PATH resolved it"),
  })
  .nullable()
  .describe("what the checks ran with and how far it can be trusted; null when unknown");

/**
 * The `--json` result: one object on stdout for every run, also for runs that never started.
 * schemas/result.schema.json is generated from this schema (`npm run schema`), never by hand.
 */
export const ResultSchema = z
  .object({
    schemaVersion: z.literal(1),
    status: z.enum(["passed", "failed", "error", "interrupted"]),
    stopReason: z.enum([
      "passed",
      "max-iterations",
      "max-tokens",
      "max-cost",
      "max-time",
      "interrupted",
      "error",
    ]),
    errorCategory: z
      .enum(["usage", "environment", "model", "internal"])
      .nullable()
      .describe(
        "for status error: bad usage or config, the environment (Docker, endpoint), the model's replies, or a bug",
      ),
    runId: z.string().nullable(),
    iterations: z.int().min(0),
    runDir: z.string().nullable(),
    image: z.string().nullable().describe("the Docker image of the last successful build"),
    reason: z.string().nullable(),
    evidence: z
      .array(z.string())
      .describe("the output lines that prove the pass; empty unless azlon accepted the pass"),
    rejectedEvidence: z
      .array(z.string())
      .describe(
        "the last verdict's quotes when they proved no pass (the judge said not passed, or azlon did not accept its pass); empty for a passed run",
      ),
    verdict: z.enum(["checks", "judge", "both"]).nullable().describe("who decides a pass in this run"),
    checks: z
      .object({
        total: z.int().min(0),
        passed: z.int().min(0),
        failed: z.int().min(0),
        serviceReady: z.boolean().nullable(),
        results: z.array(CheckSchema),
        trust: TrustSchema,
      })
      .nullable()
      .describe("the checks of the last round that ran them; null without checks"),
    usage: UsageSchema,
    costUsd: z.number().min(0).nullable(),
    durationMs: z.int().min(0),
    patch: z
      .string()
      .nullable()
      .describe(
        "in a run from your project (--from): changes.patch, the change as a git diff git apply takes",
      ),
    branch: z.string().nullable().describe("the branch --branch made after a pass, else null"),
    commit: z.string().nullable().describe("azlon's commit on that branch, else null"),
    applied: z
      .boolean()
      .nullable()
      .describe(
        "whether --apply wrote the change into your folder (false: a file changed since); null when not asked or no pass",
      ),
  })
  .strict();

export type Result = z.infer<typeof ResultSchema>;

/** What a finished run left for its result: its state, and its last verdict and checks. */
export interface RunReport {
  state: RunState;
  runDir: string;
  verdict: VerdictRecord | null;
  checks: ChecksReport | null;
  error: Error | null;
}

/** The error category of a run that ended in error (or never started). */
export function errorCategory(error: unknown): Result["errorCategory"] {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof RunStateError)
    return "usage";
  if (error instanceof EnvironmentError) return "environment";
  if (error instanceof ModelReplyError) return "model";
  if (error instanceof FatalError) return "usage";
  return "internal";
}

function checksResult(report: RunReport): Result["checks"] {
  const total = checksOf(report.state.options).commands.length;
  if (total === 0) return null;
  const results = (report.checks?.results ?? []).map((r) => ({
    command: r.command,
    passed: r.passed,
    exitCode: r.exitCode,
    timedOut: r.timedOut,
    problem: r.problem,
    durationMs: Math.round(r.durationMs),
  }));
  const passed = results.filter((r) => r.passed).length;
  return {
    total,
    passed,
    failed: total - passed,
    serviceReady: report.checks?.service ? report.checks.service.ready : null,
    results,
    trust: report.checks?.trust ?? null,
  };
}

/** The --json result of a run. */
export function resultOf(report: RunReport): Result {
  const { state } = report;
  const status = state.status === "running" ? "error" : state.status;
  return {
    schemaVersion: 1,
    status,
    stopReason: state.stopReason ?? "error",
    errorCategory: status === "error" ? errorCategory(report.error) : null,
    runId: state.runId,
    iterations: iterationsRun(state),
    runDir: report.runDir,
    image: state.image,
    reason: state.reason,
    // Quotes are evidence only when they proved the pass; a failed run's are kept apart.
    evidence: report.verdict?.accepted ? report.verdict.evidence : [],
    rejectedEvidence: report.verdict && !report.verdict.accepted ? report.verdict.evidence : [],
    verdict: verdictOf(state.options),
    checks: checksResult(report),
    usage: { ...state.usage },
    costUsd: state.costUsd,
    durationMs: Math.round(state.elapsedMs),
    patch: state.delivery?.patch ?? null,
    branch: state.delivery?.branch ?? null,
    commit: state.delivery?.commit ?? null,
    applied: state.delivery?.applied ?? null,
  };
}

/** The --json result for a failure before any run started: CI still gets exactly one object. */
export function errorResult(reason: string, error: unknown): Result {
  return {
    schemaVersion: 1,
    status: "error",
    stopReason: "error",
    errorCategory: errorCategory(error),
    runId: null,
    iterations: 0,
    runDir: null,
    image: null,
    reason,
    evidence: [],
    rejectedEvidence: [],
    verdict: null,
    checks: null,
    usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 },
    costUsd: null,
    durationMs: 0,
    patch: null,
    branch: null,
    commit: null,
    applied: null,
  };
}

/** The published JSON Schema of the result (schemas/result.schema.json), made from ResultSchema. */
export function resultJsonSchema(): Record<string, unknown> {
  return {
    title: "azlon --json result",
    ...z.toJSONSchema(ResultSchema, { target: "draft-2020-12" }),
  };
}

/** A finished run with its last verdict and the last checks that ran, from the run folder. */
export function runReport(folder: RunFolder, state: RunState, error: Error | null): RunReport {
  const last = <T>(has: (i: RunState["iterations"][number]) => boolean, name: string): T | null => {
    const round = state.iterations.filter(has).at(-1);
    if (!round) return null;
    try {
      return folder.readIterationJson<T>(round.iteration, name);
    } catch {
      return null;
    }
  };
  return {
    state,
    runDir: folder.dir,
    verdict: last<VerdictRecord>((i) => !!i.verdict, VERDICT_FILE),
    checks: last<ChecksReport>((i) => !!i.checks, CHECKS_FILE),
    error,
  };
}
