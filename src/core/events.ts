import type { Delivery, ExecSummary, RefusedPath, ServiceStatus, SourceRecord, Usage } from "./types.js";

export type Phase =
  | "snapshot"
  | "generate"
  | "read"
  | "apply"
  | "build"
  | "run"
  | "check"
  | "validate"
  | "deliver";
export type RunStatus = "running" | "passed" | "failed" | "error" | "interrupted";
export type StopReason =
  | "passed"
  | "max-iterations"
  | "max-tokens"
  | "max-cost"
  | "max-time"
  | "interrupted"
  | "error";
export type ModelPurpose = "generate" | "judge";
export type CallOutcome = "ok" | "invalid" | "refusal" | "length";

/** Everything the loop and its collaborators report; reporters and the journal consume it. */
export type LoopEvent =
  | {
      type: "run.started";
      runId: string;
      runDir: string;
      resumed: boolean;
      iteration: number;
      maxIterations: number;
      model: string;
    }
  | { type: "phase"; phase: Phase; iteration: number }
  | {
      type: "model.call";
      purpose: ModelPurpose;
      iteration: number;
      /** 0 for the first request of a call, then 1, 2, ... for repair turns. */
      turn: number;
      mode: "json_schema" | "json";
      outcome: CallOutcome;
      detail: string | null;
      finishReason: string | null;
      usage: Usage;
      durationMs: number;
      /** The raw reply, kept when it could not be used. */
      reply: string | null;
      /** The model the endpoint says it served (a server may ignore the one asked for); priced by. */
      servedModel?: string | null;
    }
  | {
      type: "model.http";
      /** Null when no answer came (unreachable, timed out). */
      status: number | null;
      /** Set when no whole answer came, also after a status (a body that broke off). */
      error: string | null;
      durationMs: number;
      attempt: number;
      /** The wait before the next attempt; null when none follows. */
      retryInMs?: number | null;
      /** The wait the endpoint asked for (Retry-After), which maxRetryWait may have cut. */
      askedWaitMs?: number | null;
    }
  | { type: "model.fallback"; from: "json_schema"; to: "json"; reason: string }
  | {
      type: "changes.applied";
      iteration: number;
      written: string[];
      deleted: string[];
      refused: RefusedPath[];
      dockerfileChanged: boolean;
      notes: string[];
    }
  | {
      type: "build.finished";
      iteration: number;
      ok: boolean;
      timedOut: boolean;
      durationMs: number;
      image: string | null;
      /** Why it failed, in the builder's words; null when it built (absent in older journals). */
      cause?: string | null;
    }
  | ({ type: "exec.finished"; iteration: number } & ExecSummary)
  /** Nothing changed since iteration `from` was built and run: its result is this round's. */
  | { type: "execute.reused"; iteration: number; from: number }
  | {
      type: "checks.finished";
      iteration: number;
      service: ServiceStatus | null;
      results: Array<{
        command: string;
        passed: boolean;
        exitCode: number | null;
        timedOut: boolean;
        problem: string | null;
        durationMs: number;
      }>;
    }
  | {
      type: "verdict";
      iteration: number;
      passed: boolean;
      accepted: boolean;
      reason: string;
      evidence: string[];
      /** Who decided: the checks alone, the judge alone, or both. */
      decidedBy: "checks" | "judge" | "both";
    }
  | {
      type: "evidence.rejected";
      iteration: number;
      attempt: number;
      /** A failing check vetoed the pass, or its quotes were not in the output. */
      by: "checks" | "evidence";
      missing: string[];
      problem: string;
    }
  /** The user's project (--from) was copied into the workspace. */
  | ({ type: "source.snapshot" } & Pick<
      SourceRecord,
      "kind" | "files" | "bytes" | "commit" | "branch" | "dirty"
    >)
  /** Files an answer asked to read, shown in the next request (or refused, with why). */
  | {
      type: "files.read";
      iteration: number;
      by: "generate" | "validate";
      shown: string[];
      refused: RefusedPath[];
    }
  /** The change went back: changes.patch, and the branch or apply asked for. */
  | ({ type: "source.delivered" } & Delivery)
  | { type: "warning"; message: string }
  | {
      type: "run.finished";
      status: Exclude<RunStatus, "running">;
      stopReason: StopReason;
      reason: string;
      iterations: number;
      usage: Usage;
      costUsd: number | null;
      durationMs: number;
      image: string | null;
    };

export type EventSink = (event: LoopEvent) => void;

/** Compile-time check that a switch over LoopEvent handled every case. */
export function assertNever(value: never): never {
  throw new Error(`unhandled event: ${JSON.stringify(value)}`);
}
