import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { URL_CREDENTIALS_HINT } from "../config/load.js";
import type { ConfigInput, ConfigKey } from "../config/schema.js";
import { LockedError, RunStateError, UsageError } from "../core/errors.js";
import { newRunState, type RunOptions, type RunState } from "../core/state.js";
import { fileErrorCause } from "../util/file-errors.js";
import { processAlive } from "../util/liveness.js";
import { hasUrlCredentials, MASK, maskUrlSecrets, type Redactor } from "../util/secrets.js";
import { describeHolder, LockBusyError } from "../workspace/lock.js";
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

/**
 * Takes the run folder's lock for this process, or says which live process drives the run
 * (one run, one driver).
 */
function lockRun(folder: RunFolder, by: string, force: boolean): void {
  try {
    folder.lock({ by, force });
  } catch (error) {
    if (!(error instanceof LockBusyError)) throw error;
    const { holder } = error;
    throw new LockedError(
      `the run in ${folder.dir} is being driven by ${describeHolder(holder)}`,
      error.state === "elsewhere"
        ? `wait for it, or stop it on ${holder.host}; if that host is down and the process gone, pass --force`
        : error.forceable
          ? `wait for it, or stop it (kill ${holder.pid}); if process ${holder.pid} is not azlon (its number was reused), pass --force`
          : `wait for it to end, or stop it (kill ${holder.pid})`,
    );
  }
}

/** Makes a new run folder under options.out, locked for this process, with run.json saved. */
export function createRun(
  task: Task,
  options: RunOptions,
  redactor: Redactor,
  { by = "azlon run", now = new Date() }: { by?: string; now?: Date } = {},
): PreparedRun {
  const outDir = options.out;
  let runId = newRunId(task.prompt, now);
  while (existsSync(join(outDir, runId))) runId = newRunId(task.prompt, now);
  const folder = new RunFolder(join(outDir, runId), redactor);
  const state = newRunState(runId, task, options, now);
  try {
    folder.init();
    // Before run.json: no other process can take the new run for one nobody drives.
    folder.lock({ by });
    folder.saveState(state);
  } catch (error) {
    folder.close();
    throw outDirError(outDir, error);
  }
  return { state, folder };
}

/** Reads a run folder's record; a folder that is not a run, or a record from elsewhere, is refused. */
export function readRun(dir: string, redactor: Redactor): PreparedRun {
  const folder = new RunFolder(dir, redactor);
  return { state: readState(folder), folder };
}

function readState(folder: RunFolder): RunState {
  const { dir } = folder;
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
  return state;
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
  /** Who drives the run, as its lock names it to a second process ("azlon resume"). */
  by: string;
}

/**
 * Opens a run to resume, locked for this process (`by` names it to a second one): not passed,
 * not driven by a live process (unless forced where that cannot be proved), with the given
 * limits raised. A leg killed before it could record its end is marked interrupted. The
 * caller frees the lock with folder.close().
 */
export function openRun(
  dir: string,
  redactor: Redactor,
  overrides: ResumeOverrides = {},
  { force = false, baseUrls = [], by }: OpenRunOptions,
): PreparedRun {
  const folder = new RunFolder(dir, redactor);
  if (RunFolder.exists(dir)) lockRun(folder, by, force); // before reading: what is read stays so
  try {
    const state = readState(folder);
    prepareResume(state, dir, overrides, force, baseUrls);
    return { state, folder };
  } catch (error) {
    folder.close();
    throw error;
  }
}

function prepareResume(
  state: RunState,
  dir: string,
  overrides: ResumeOverrides,
  force: boolean,
  baseUrls: ReadonlyArray<string | null | undefined>,
): void {
  if (state.status === "passed") {
    throw new RunStateError(`the run in ${dir} has passed already; there is nothing to resume`);
  }
  const leg = state.legs.at(-1);
  // The lock says who drives a run; an azlon from before the lock said it on the leg only.
  // A leg naming this very process was a previous one's that had its number (pid 1 in a container).
  if (
    state.status === "running" &&
    leg?.pid &&
    leg.host === hostname() &&
    leg.pid !== process.pid &&
    processAlive(leg.pid, leg.start) &&
    !force
  ) {
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
}
