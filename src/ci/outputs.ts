import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { CliContext } from "../cli/io.js";
import type { ChecksReport } from "../core/types.js";
import type { Result } from "../engine/result.js";
import { annotations, stepSummary } from "./github.js";
import { junitXml } from "./junit.js";

export interface CiOutputInput {
  result: Result;
  /** The last round's checks, for their output in JUnit failures. */
  checks: ChecksReport | null;
  junitPath: string | null;
  /** In --json mode stdout holds one object only: annotations go to stderr (the runner reads both). */
  json: boolean;
}

/**
 * What CI reads besides the exit code: JUnit XML (--junit), the GitHub step summary (when
 * GITHUB_STEP_SUMMARY is set) and annotations (when GITHUB_ACTIONS=true). A file that cannot be
 * written is a warning: the run's own outcome stands.
 */
export function writeCiOutputs(input: CiOutputInput, ctx: CliContext): void {
  const { result } = input;
  const warn = (what: string, error: unknown) =>
    ctx.stderr.write(`azlon: warning: could not write ${what}: ${(error as Error).message}\n`);
  if (input.junitPath) {
    const outputs = new Map((input.checks?.results ?? []).map((r) => [r.command, r.output.text]));
    try {
      mkdirSync(dirname(input.junitPath), { recursive: true });
      writeFileSync(input.junitPath, junitXml(result, outputs));
    } catch (error) {
      warn(`the JUnit file ${input.junitPath}`, error);
    }
  }
  const summary = ctx.env.GITHUB_STEP_SUMMARY;
  if (summary) {
    try {
      appendFileSync(summary, stepSummary(result));
    } catch (error) {
      warn("the GitHub step summary", error);
    }
  }
  if (ctx.env.GITHUB_ACTIONS === "true") {
    const stream = input.json ? ctx.stderr : ctx.stdout;
    for (const line of annotations(result)) stream.write(`${line}\n`);
  }
}
