import type { LoopEvent } from "./events.js";

/** A file the model wrote, path relative to the workspace. */
export interface FileEntry {
  path: string;
  content: string;
}

/**
 * A change to part of a file: `search` must occur exactly once in the file as it is when the
 * edit applies (after the reply's whole files and earlier edits), and is replaced by `replace`.
 */
export interface FileEdit {
  path: string;
  search: string;
  replace: string;
}

/** The model's first answer: a plan, a Dockerfile and the project's files. */
export interface Generation {
  plan: string;
  /** Null keeps the Dockerfile of the project the run started from. */
  dockerfile: string | null;
  files: FileEntry[];
  /** Absent in answers recorded before edits existed (generation.json of an older run). */
  edits?: FileEdit[] | null;
  /** Files to see before answering (nothing else of the answer applies then); absent in older runs. */
  read?: string[] | null;
}

/** The judge's answer after seeing a round's output. */
export interface Verdict {
  passed: boolean;
  reason: string;
  evidence: string[];
  dockerfile: string | null;
  files: FileEntry[] | null;
  /** Absent in answers recorded before edits existed (verdict.json of an older run). */
  edits?: FileEdit[] | null;
  delete: string[] | null;
  /** Files to see before fixing (nothing else of the answer applies then); absent in older runs. */
  read?: string[] | null;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens the endpoint served from its cache (billed cheaper where supported). */
  cachedTokens: number;
}

export const zeroUsage = (): Usage => ({ promptTokens: 0, completionTokens: 0, cachedTokens: 0 });

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
  };
}

/** Text cut to a bound, head and tail kept, with what was cut accounted for. */
export interface BoundedText {
  text: string;
  totalBytes: number;
  truncated: boolean;
}

/** Runtime limits applied to every container, and told to the model. */
export interface Limits {
  memoryBytes: number;
  cpus: number;
  pids: number;
  network: "none" | "bridge";
  runTimeoutMs: number;
  buildTimeoutMs: number;
}

export interface BuildResult {
  ok: boolean;
  timedOut: boolean;
  /** The build log, bounded as the model will see it. */
  log: BoundedText;
  durationMs: number;
  imageId: string | null;
  /** Why it failed, in the builder's words (one line, bounded); null when it built or the log names nothing. */
  cause: string | null;
}

export interface ExecResult {
  exitCode: number | null;
  timedOut: boolean;
  oomKilled: boolean;
  /** The signal that ended the program, when it was killed by one (e.g. "SIGKILL"). */
  signal: string | null;
  /** Combined stdout and stderr, bounded as the model will see it. */
  output: BoundedText;
  durationMs: number;
}

/** A run of the program as run.json and the journal record it (the output itself is in output.log). */
export interface ExecSummary {
  exitCode: number | null;
  timedOut: boolean;
  oomKilled: boolean;
  signal: string | null;
  durationMs: number;
  outputBytes: number;
  truncated: boolean;
}

/** Where the sandbox writes the full (disk-capped) logs of a step. */
export interface LogTarget {
  path: string;
  /** stdout and stderr apart, each in a file of its own (for checks in a trusted image). */
  streams?: { stdout: string; stderr: string };
}

/** One of the user's checks after it ran: a shell command whose exit code decides. */
export interface CheckResult {
  command: string;
  exitCode: number | null;
  timedOut: boolean;
  passed: boolean;
  /** Why it did not pass, in words ("exit 1", "command not found (exit 127)"), or null. */
  problem: string | null;
  /** What it printed, bounded as the model will see it. */
  output: BoundedText;
  durationMs: number;
}

/** How a service came up before its checks ran. */
export interface ServiceStatus {
  ready: boolean;
  /** Why it is not ready ("exited with 1 before it was ready", "not ready after 60 s"), or null. */
  problem: string | null;
  durationMs: number;
}

/**
 * How far a file a check relies on can be trusted: as the FROM image has it ("base"), replaced
 * or added by the model's build, not there, a builtin of the shell, or unknown (no base).
 */
export type TrustStatus = "base" | "changed" | "added" | "missing" | "builtin" | "unverified";

/** What the checks of a round ran with, and how far it can be trusted. */
export interface CheckTrust {
  /** The trusted image the checks ran in (--check-image); null: the project's own image. */
  checkImage: string | null;
  /** The image the project's files were compared with (its FROM); null when it cannot be told. */
  base: string | null;
  /** The shell the checks run with (/bin/sh of the project's image); null with a check image. */
  shell: { path: string; status: TrustStatus } | null;
  /** Each check command's first word, as the image's PATH resolves it (empty with a check image). */
  commands: Array<{ command: string; word: string; path: string | null; status: TrustStatus }>;
}

/** What iterations/NN/checks.json holds: the service's start (if any) and every check. */
export interface ChecksReport {
  service: ServiceStatus | null;
  results: CheckResult[];
  /** Absent in runs made before it was recorded. */
  trust?: CheckTrust | null;
}

/** The checks to run against a built image. */
export interface CheckRequest {
  commands: readonly string[];
  /** The user's check files, copied to /azlon/checks in every check container; or null. */
  checksDir: string | null;
  timeoutMs: number;
  /** Where check number i (from 0) writes its full log. */
  log: (index: number) => LogTarget;
  /** The project (the workspace), at /azlon/project for checks in a trusted image. */
  projectDir: string;
  /** The program's run this round, at /azlon/output for checks in a trusted image; null for a service. */
  program: { exitCode: number | null; streams: { stdout: string; stderr: string } | null } | null;
}

/** A program that is a service: started in the background, polled until ready, checked beside. */
export interface ServiceRequest {
  ready: string;
  readyTimeoutMs: number;
  checks: CheckRequest;
}

/** Where the user's check files go inside every check container. */
export const CHECKS_MOUNT = "/azlon/checks";

/** Builds images and runs containers for one run; everything it creates carries the run's label. */
export interface Sandbox {
  build(contextDir: string, log: LogTarget, signal: AbortSignal): Promise<BuildResult>;
  run(log: LogTarget, signal: AbortSignal): Promise<ExecResult>;
  /**
   * Runs each check in a fresh container, with azlon's `/bin/sh -c`: of the built image (its
   * shell and the command compared with the FROM image's first), or of the trusted check image.
   */
  runChecks(request: CheckRequest, signal: AbortSignal): Promise<ChecksReport>;
  /** Starts the program as a service, waits until ready, runs the checks beside it. */
  runService(
    request: ServiceRequest,
    log: LogTarget,
    signal: AbortSignal,
  ): Promise<{ exec: ExecResult; checks: ChecksReport }>;
  /** Removes the run's containers and every image but the final one. Never throws. */
  cleanup(): Promise<void>;
  /** The tag of the image the last successful build produced. */
  readonly imageTag: string;
}

/** What the judge is shown about one earlier round, kept short. */
export interface RoundMemory {
  iteration: number;
  summary: string;
}

/** The user's checks as the model is shown them. */
export interface CheckView {
  commands: string[];
  /** The files of the checks folder; null when hidden (held-out tests), names only then. */
  files: FileEntry[] | null;
  names: string[];
  /** The readiness command when the program is a service. */
  ready: string | null;
  /** Who decides a pass. */
  verdict: VerdictMode;
  /** What the checks need in the image, in the user's words ("python3 and PyYAML"), or null. */
  need?: string | null;
  /** The user's image the checks run in (--check-image), or null: the project's own image. */
  image?: string | null;
}

/**
 * What azlon learnt about the base image, for the model: from the image's config and, when it
 * has a shell, one short probe container. Null fields were not learnt.
 */
export interface RuntimeFacts {
  /** "Debian GNU/Linux 12 (bookworm)", "BusyBox v1.35.0". */
  os: string | null;
  /** "amd64". */
  arch: string | null;
  /** The image's USER when it is not root. */
  user: string | null;
  /** LC_ALL or LANG as the image sets it; "" when it sets neither. */
  locale: string | null;
  /** Whether the probe ran: only then are `found` and `pip` known. */
  probed: boolean;
  /** Interpreters, compilers and package tools on the PATH, with a version where one was asked. */
  found: Array<{ name: string; version: string | null }>;
  /** Whether python3 has pip (python3 -m pip); null without python3 or without the probe. */
  pip: boolean | null;
  /** Language versions the image's environment names (PYTHON_VERSION=3.12.1), from its config. */
  versions: string[];
}

/** Who decides a pass: the checks, the judge, or both. */
export type VerdictMode = "checks" | "judge" | "both";

export interface GenerateRequest {
  prompt: string;
  tests: string;
  checks: CheckView | null;
  /** The user's project the run starts from (--from); absent or null: a new project. */
  project?: ProjectView | null;
  /** Files the model asked to read this round, and what azlon refused of its asks. */
  reads?: ReadFiles | null;
}

/** The user's project as the first request shows it. */
export interface ProjectView {
  /** Every path with its size, folders summarised past a count. */
  map: string;
  /** The files most likely to matter, whole. */
  files: FileEntry[];
  /** Files that also seemed to matter but did not fit, by name. */
  named: string[];
  /** The project's own Dockerfile (shown as "Dockerfile"), or null when it has none. */
  dockerfile: string | null;
  /** Where that Dockerfile is in the project, when --dockerfile named one other than the root's. */
  dockerfilePath: string | null;
}

/** What the read step gave the model this round. */
export interface ReadFiles {
  files: FileEntry[];
  refused: RefusedPath[];
  /** How many more asks to read this round allows. */
  left: number;
}

/** What run.json keeps of the snapshot of the user's project. */
export interface SourceRecord {
  kind: "git" | "folder";
  /** The repository's top folder (git), else the folder itself. */
  top: string;
  /** The folder's path inside the repository, with a slash ("" at its top). */
  prefix: string;
  /** HEAD when the snapshot was taken; null outside git or before the first commit. */
  commit: string | null;
  branch: string | null;
  /** Whether the working tree differed from HEAD (uncommitted or untracked files). */
  dirty: boolean;
  objectFormat: "sha1" | "sha256";
  files: number;
  bytes: number;
  /** Whether the project brought its own Dockerfile (its root one, or the one --dockerfile named). */
  ownDockerfile: boolean;
  /** The files the first request showed whole, kept for the judge's requests. */
  context: string[];
}

/** How a --from run's change went back to the user. */
export interface Delivery {
  /** changes.patch in the run folder. */
  patch: string;
  /** The paths the patch changes. */
  files: string[];
  branch: string | null;
  /** azlon's commit on that branch. */
  commit: string | null;
  /** Whether --apply wrote the change into the folder; null when it was not asked (or no pass). */
  applied: boolean | null;
  /** Why a branch or an apply that was asked for did not happen, else null. */
  note: string | null;
}

/**
 * The user's project as the loop needs it: copied into the workspace at the start, shown to
 * the model as a map, and handed back at the end as a patch (and a branch, or applied).
 */
export interface ProjectSource {
  snapshot(signal: AbortSignal): Promise<SourceRecord>;
  /** The map and the files most likely to matter to this task (chosen once, then kept). */
  view(record: SourceRecord, task: { prompt: string; tests: string }): Promise<ProjectView>;
  /** The map of the workspace as it is now (the folders that share the task's words open first). */
  map(task: string): Promise<string>;
  /** Writes changes.patch; after a pass, also the branch and the apply asked for. */
  deliver(record: SourceRecord, run: { runId: string; prompt: string; passed: boolean }): Promise<Delivery>;
}

export interface JudgeRequest {
  prompt: string;
  tests: string;
  iteration: number;
  maxIterations: number;
  dockerfile: string;
  files: FileEntry[];
  build: BuildResult;
  exec: ExecResult | null;
  checks: CheckView | null;
  /** The checks' results this round; null when there are no checks or the build failed. */
  checkResults: ChecksReport | null;
  refused: RefusedPath[];
  history: RoundMemory[];
  /**
   * The round each path (the Dockerfile as "Dockerfile") was last written in; paths written in
   * this round are shown as changed, after the rest, so consecutive prompts share a long prefix.
   * Absent: every file is shown as unchanged.
   */
  changedIn?: Record<string, number>;
  /** The paths the last answer deleted. */
  deleted?: string[];
  /** Set when nothing changed since that round: its result is shown again, not rebuilt or rerun. */
  reusedFrom?: number;
  /**
   * How the project is laid out in the request, kept from round to round so that each request
   * repeats the one before (src/core/steps/prompt-layout.ts). Absent: shown once, fresh.
   */
  layout?: PromptLayout;
  /** In a run from the user's project: its map (the files shown are only those that matter). */
  projectMap?: string | null;
  /** Files the judge asked to read this round. */
  reads?: ReadFiles | null;
}

/** The project as the judge's requests show it: a base round's files, then later rounds' changes. */
export interface PromptLayout {
  /** The round whose project `base` shows. */
  baseRound: number;
  /** Every file of that round (the Dockerfile as "Dockerfile"), in the order shown. */
  base: FileEntry[];
  /** What each round after it wrote (whole) and deleted, in round order. */
  later: Array<{ round: number; written: FileEntry[]; deleted: string[] }>;
}

/** A follow-up turn after a verdict azlon did not accept. */
export interface JudgeFeedback {
  previous: Verdict;
  problem: string;
}

export interface ModelContext {
  signal: AbortSignal;
  iteration: number;
  emit(event: LoopEvent): void;
}

/** The language model, as the loop needs it. */
export interface Model {
  generate(request: GenerateRequest, ctx: ModelContext): Promise<Generation>;
  judge(request: JudgeRequest, feedback: JudgeFeedback[], ctx: ModelContext): Promise<Verdict>;
}

export interface RefusedPath {
  path: string;
  reason: string;
}

/** A set of changes to apply to the workspace, from a generation or a verdict. */
export interface Changes {
  dockerfile: string | null;
  files: FileEntry[];
  /** Applied in order after `files` and before `delete`; each one checked against the disk then. */
  edits: FileEdit[];
  /** The size no file may grow past by edits (the reply limit for a whole file). */
  maxFileBytes: number;
  delete: string[];
  /** Paths refused while parsing the reply (before touching the disk). */
  refused: RefusedPath[];
  /** Notes about repairs made to the reply (e.g. "duplicate path app.py: the last one kept"). */
  notes: string[];
}

export interface ApplyReport {
  written: string[];
  deleted: string[];
  refused: RefusedPath[];
  dockerfileChanged: boolean;
  notes: string[];
}
