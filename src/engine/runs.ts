import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { URL_CREDENTIALS_HINT } from "../config/load.js";
import type { ConfigInput, ConfigKey } from "../config/schema.js";
import { RunStateError, UsageError } from "../core/errors.js";
import { newRunState, type RunOptions, type RunState } from "../core/state.js";
import { processAlive } from "../sandbox/owner.js";
import { fileErrorCause } from "../util/file-errors.js";
import { hasUrlCredentials, MASK, maskUrlSecrets, type Redactor } from "../util/secrets.js";
import { RunFolder } from "../workspace/run-folder.js";
import { checkCostBudget, newRunId } from "./options.js";

/** A run ready to start: its record and its folder. */
export interface PreparedRun {
  state: RunState;
  folder: RunFolder;
}

/** What to build and how to tell that it works. */
export interface Task {
  prompt: string;
  tests: string;
}

/** Why the run folder cannot be made, and what to do about it. */
function outDirError(outDir: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const fix =
    code === "ENOTDIR" || code === "EEXIST"
      ? "--out must name a folder (or where one can be made), not a file"
      : code === "ENOSPC"
        ? "free disk space, or choose another --out"
        : "choose another --out, or fix that folder's permissions";
  return new UsageError(`cannot create the run folder in ${outDir}: ${fileErrorCause(error)}`, fix);
}

/** Makes a new run folder under options.out, with run.json saved, ready to start. */
export function createRun(
  task: Task,
  options: RunOptions,
  redactor: Redactor,
  now = new Date(),
): PreparedRun {
  const outDir = options.out;
  let runId = newRunId(task.prompt, now);
  while (existsSync(join(outDir, runId))) runId = newRunId(task.prompt, now);
  const folder = new RunFolder(join(outDir, runId), redactor);
  const state = newRunState(runId, task, options, now);
  try {
    folder.init();
    folder.saveState(state);
  } catch (error) {
    throw outDirError(outDir, error);
  }
  return { state, folder };
}

/** Reads a run folder's record; a folder that is not a run, or a record from elsewhere, is refused. */
export function readRun(dir: string, redactor: Redactor): PreparedRun {
  const folder = new RunFolder(dir, redactor);
  if (!RunFolder.exists(dir)) {
    throw new RunStateError(
      `${dir} is not an azlon run folder (it has no run.json)`,
      "pass the folder `azlon run` printed",
    );
  }
  let state: RunState;
  try {
    state = folder.readState() as RunState;
  } catch (error) {
    throw new RunStateError(`cannot read ${dir}/run.json: ${(error as Error).message}`);
  }
  if (state?.version !== 1 || !state.progress || !state.options) {
    throw new RunStateError(`${dir}/run.json is not a run record this azlon can resume`);
  }
  return { state, folder };
}

/** The options a resumed run may change; the rest are the run's own. */
export const RESUME_KEYS = [
  "maxIterations",
  "maxTokens",
  "maxCost",
  "maxTime",
  "runTimeout",
  "buildTimeout",
  "modelRetries",
  "modelTimeout",
  "maxReplyTokens",
  "baseUrl",
] as const satisfies readonly ConfigKey[];

export type ResumeOverrides = Pick<ConfigInput, (typeof RESUME_KEYS)[number]>;

function applyOverrides(o: RunOptions, given: ResumeOverrides): void {
  if (given.maxIterations !== undefined) o.maxIterations = given.maxIterations;
  if (given.maxTokens !== undefined) o.budgets.maxTokens = given.maxTokens;
  if (given.maxCost !== undefined) o.budgets.maxCostUsd = given.maxCost;
  if (given.maxTime !== undefined) o.budgets.maxTimeMs = given.maxTime === null ? null : given.maxTime * 1000;
  if (given.runTimeout !== undefined) o.limits.runTimeoutMs = given.runTimeout * 1000;
  if (given.buildTimeout !== undefined) o.limits.buildTimeoutMs = given.buildTimeout * 1000;
  if (given.modelRetries !== undefined) o.modelRetries = given.modelRetries;
  if (given.modelTimeout !== undefined) o.modelTimeoutMs = given.modelTimeout * 1000;
  if (given.maxReplyTokens !== undefined) o.maxReplyTokens = given.maxReplyTokens;
  if (given.baseUrl !== undefined) o.baseUrl = given.baseUrl;
}

export interface OpenRunOptions {
  /** Resume even though run.json names a live process. */
  force?: boolean;
  /**
   * Base URLs the caller knows (OPENAI_BASE_URL, a server's config): run.json keeps a base URL
   * with its query's secrets masked, and the one of these that masks to it is used.
   */
  baseUrls?: ReadonlyArray<string | null | undefined>;
}

/**
 * Opens a run to resume: not passed, not still going in a live process (unless forced), with
 * the given limits raised. A leg killed before it could record its end is marked interrupted.
 */
export function openRun(
  dir: string,
  redactor: Redactor,
  overrides: ResumeOverrides = {},
  { force = false, baseUrls = [] }: OpenRunOptions = {},
): PreparedRun {
  const prepared = readRun(dir, redactor);
  const { state } = prepared;
  if (state.status === "passed") {
    throw new RunStateError(`the run in ${dir} has passed already; there is nothing to resume`);
  }
  const leg = state.legs.at(-1);
  if (state.status === "running" && leg?.pid && leg.host === hostname() && processAlive(leg.pid) && !force) {
    throw new RunStateError(
      `the run in ${dir} is still going (process ${leg.pid})`,
      "wait for it or stop it; if that process is not azlon (its number was reused), pass --force",
    );
  }
  if (state.status === "running" && leg) {
    // That leg was killed before it could write its end (kill -9, a crash, a reboot).
    leg.status = "interrupted";
    leg.endedAt = state.updatedAt;
  }
  applyOverrides(state.options, overrides);
  if (state.options.baseUrl?.includes(`=${MASK}`)) {
    const stored = state.options.baseUrl;
    const known = baseUrls.find((url) => url && url !== stored && maskUrlSecrets(url) === stored);
    if (!known) {
      throw new RunStateError(
        `the run's base URL (${stored}) held a secret in its query, which was not stored`,
        "pass --base-url with it, or set OPENAI_BASE_URL to it",
      );
    }
    state.options.baseUrl = known;
  }
  if (state.options.baseUrl && hasUrlCredentials(state.options.baseUrl)) {
    // A run of an older azlon stored such a URL with its credentials masked.
    throw new RunStateError(
      "the run's base URL held a user name or password, which were not stored",
      `pass --base-url without them; ${URL_CREDENTIALS_HINT}`,
    );
  }
  checkCostBudget(state.options);
  return prepared;
}
