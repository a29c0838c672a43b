import type { Price } from "./cost.js";
import type { RunStatus, StopReason } from "./events.js";
import type {
  Delivery,
  ExecSummary,
  Limits,
  RefusedPath,
  SourceRecord,
  Usage,
  VerdictMode,
} from "./types.js";

/** The step the run does next; run.json records it after each completed step. */
export type Step =
  | "snapshot"
  | "generate"
  | "read"
  | "apply"
  | "execute"
  | "check"
  | "validate"
  | "deliver"
  | "done";

/** The user's checks, as run.json keeps them. */
export interface CheckOptions {
  /** Shell commands; each must exit 0. */
  commands: string[];
  /** The folder copied to /azlon/checks (absolute), or null. */
  dir: string | null;
  /** Show the model the checks' names, exit codes and output only, not their files. */
  hide: boolean;
  /** Each check's time limit; null: the run's runTimeout, as it is when the check runs. */
  timeoutMs: number | null;
  /** A trusted image the checks run in instead of the project's; absent in older runs. */
  image?: string | null;
  /** What the checks need in the image, told to the model; absent in runs recorded before it was. */
  need?: string | null;
}

/** When the program is a service: the command that tells it is ready, and how long to wait. */
export interface ServiceOptions {
  ready: string;
  readyTimeoutMs: number;
}

export interface Budgets {
  maxTokens: number | null;
  maxCostUsd: number | null;
  maxTimeMs: number | null;
}

/**
 * The user's project a run starts from (--from), and how its change is handed back. Absent: a
 * run that builds a new project.
 */
export interface SourceOptions {
  /** The user's folder, absolute. It is read at the start and written only by `apply`. */
  dir: string;
  /** The Dockerfile to build with, relative to the folder (--dockerfile); null: its root Dockerfile. */
  dockerfile: string | null;
  /** After a pass, a new branch on the user's HEAD holding the change (--branch). */
  branch: string | null;
  /** After a pass, write the change into the folder where the user has not changed it (--apply). */
  apply: boolean;
  /** Put a Dockerfile the project did not have into the patch (--keep-dockerfile). */
  keepDockerfile: boolean;
  /** The most the copied files may take. */
  maxBytes: number;
}

/** Effective options of a run, as stored in run.json (never secrets). */
export interface RunOptions {
  model: string;
  baseUrl: string | null;
  maxIterations: number;
  limits: Limits;
  baseImage: string | null;
  /** Which builder a Dockerfile gets; absent in older runs (auto). */
  builder?: "auto" | "classic" | "buildkit";
  structuredOutput: "auto" | "json_schema" | "json";
  modelRetries: number;
  modelTimeoutMs: number;
  repairAttempts: number;
  temperature: number | null;
  budgets: Budgets;
  maxOutputBytes: number;
  maxLogBytes: number;
  maxFiles: number;
  maxFileBytes: number;
  maxPathLength: number;
  price: Price | null;
  /** The config's own prices (added to the built-in table), to price a model the endpoint served instead. */
  prices?: Record<string, Price>;
  /** The reply's token cap sent with every request; null: none (absent in runs of azlon 0.1). */
  maxReplyTokens?: number | null;
  /** The longest wait before a retry, whatever the endpoint's Retry-After. */
  maxRetryWaitMs?: number;
  /** A larger reply is refused unread. */
  maxReplyBytes?: number;
  /** Template paths by name; absent means the default template. */
  prompts: Partial<Record<string, string>>;
  out: string;
  /** Absent in runs recorded before checks existed: no checks. */
  checks?: CheckOptions;
  service?: ServiceOptions | null;
  verdict?: VerdictMode;
  /** Absent in runs that build a new project. */
  source?: SourceOptions | null;
}

/** The checks of a run, none for runs recorded before checks existed. */
export function checksOf(options: RunOptions): CheckOptions & { timeoutMs: number; image: string | null } {
  const checks = options.checks ?? { commands: [], dir: null, hide: false, timeoutMs: null };
  return {
    ...checks,
    timeoutMs: checks.timeoutMs ?? options.limits.runTimeoutMs,
    image: checks.image ?? null,
  };
}

/** Who decides a pass: given, else both when there are checks, else the judge. */
export function verdictOf(options: RunOptions): VerdictMode {
  return options.verdict ?? (checksOf(options).commands.length ? "both" : "judge");
}

export interface IterationSummary {
  iteration: number;
  changes?: {
    written: string[];
    deleted: string[];
    refused: RefusedPath[];
    dockerfileChanged: boolean;
  };
  /** Digest of the workspace and the limits when this round built (see RunStore.workspaceHash). */
  workspaceHash?: string;
  /** The iteration whose build and run this round reused, because nothing had changed. */
  reusedFrom?: number;
  /** `cause`: why it failed, in the builder's words (absent when it built, and in older runs). */
  build?: { ok: boolean; timedOut: boolean; durationMs: number; cause?: string | null };
  exec?: ExecSummary | null;
  /** The checks' outcome: how many passed of how many, and the service's readiness. */
  checks?: { passed: number; total: number; serviceReady: boolean | null };
  verdict?: { passed: boolean; accepted: boolean; reason: string };
  /** Tokens the model used for this round (the generation counts in round 1). */
  usage?: Usage;
}

export interface Leg {
  startedAt: string;
  endedAt: string | null;
  status: RunStatus;
  /** The process that ran the leg, so `resume` can tell a live run from a killed one. */
  pid?: number;
  host?: string;
  /** When that process started (boot id and start time), to tell its number reused. */
  start?: string | null;
}

/** run.json: everything needed to report on a run and to resume it. */
export interface RunState {
  version: 1;
  runId: string;
  createdAt: string;
  updatedAt: string;
  input: { prompt: string; tests: string };
  options: RunOptions;
  status: RunStatus;
  stopReason: StopReason | null;
  reason: string | null;
  progress: { iteration: number; step: Step };
  iterations: IterationSummary[];
  usage: Usage;
  costUsd: number | null;
  /** Time spent running, summed over every leg (the first run and each resume). */
  elapsedMs: number;
  legs: Leg[];
  image: string | null;
  /** The structured-output mode in use (after an automatic fallback, "json"). */
  structuredOutputMode: "json_schema" | "json";
  /** What the snapshot of the user's project (--from) was; absent until it is taken, and in new projects. */
  source?: SourceRecord;
  /** How the change went back to the user's project: the patch, and the branch or apply asked for. */
  delivery?: Delivery;
}

export function newRunState(
  runId: string,
  input: RunState["input"],
  options: RunOptions,
  now: Date,
): RunState {
  return {
    version: 1,
    runId,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    input,
    options,
    status: "running",
    stopReason: null,
    reason: null,
    // A run from the user's project copies it first.
    progress: { iteration: 1, step: options.source ? "snapshot" : "generate" },
    iterations: [],
    usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 },
    costUsd: options.price ? 0 : null,
    elapsedMs: 0,
    legs: [],
    image: null,
    structuredOutputMode: options.structuredOutput === "json" ? "json" : "json_schema",
  };
}

export function summaryFor(state: RunState, iteration: number): IterationSummary {
  let entry = state.iterations.find((i) => i.iteration === iteration);
  if (!entry) {
    entry = { iteration };
    state.iterations.push(entry);
    state.iterations.sort((a, b) => a.iteration - b.iteration);
  }
  return entry;
}

/** How many iterations built (or tried to build) and ran. */
export function iterationsRun(state: RunState): number {
  return state.iterations.filter((i) => i.build !== undefined).length;
}
