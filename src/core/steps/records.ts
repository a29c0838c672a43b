import type { BuildResult, ExecResult, Verdict } from "../types.js";

/** What iterations/NN/result.json holds: enough to validate again after a resume. */
export interface RoundResult {
  build: BuildResult;
  exec: ExecResult | null;
}

/**
 * Why azlon sent a claimed pass back: a check that failed (`checks`, where checks decide), or
 * quotes not found in the output (`evidence`).
 */
export interface Rejection {
  by: "checks" | "evidence";
  missing: string[];
  problem: string;
}

/** What iterations/NN/verdict.json holds. */
export interface VerdictRecord extends Verdict {
  /** Whether azlon accepted the verdict (a pass must be proven, and no check may fail). */
  accepted: boolean;
  /** `by` is absent in runs recorded before it was. */
  rejections: Array<Omit<Rejection, "by"> & Partial<Pick<Rejection, "by">>>;
  /** Who decided; absent in runs recorded before checks existed (the judge). */
  decidedBy?: "checks" | "judge" | "both";
}

export const RESULT_FILE = "result.json";
export const CHECKS_FILE = "checks.json";
export const VERDICT_FILE = "verdict.json";
