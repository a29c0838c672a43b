import { hostname } from "node:os";
import { resolve } from "node:path";
import { coerceFlag, flagSource, URL_CREDENTIALS_HINT, validateLayer } from "../../config/load.js";
import type { ConfigKey } from "../../config/schema.js";
import { RunStateError } from "../../core/errors.js";
import type { RunState } from "../../core/state.js";
import { loadTemplates } from "../../prompts/templates.js";
import { resolveDockerTarget } from "../../sandbox/connection.js";
import { processAlive } from "../../sandbox/owner.js";
import { hasUrlCredentials } from "../../util/secrets.js";
import { RunFolder } from "../../workspace/run-folder.js";
import { continueCommand, limitsReached } from "../continue.js";
import type { CliContext } from "../io.js";
import { apiKeyFrom, checkCostBudget, executeRun, redactorFor } from "../session.js";

/** Options a resumed run may change; the rest are the run's own. */
export const RESUME_CONFIG_FLAGS: readonly ConfigKey[] = [
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
];

export interface ResumeFlags {
  json?: boolean;
  [key: string]: unknown;
}

function readRunState(folder: RunFolder, dir: string): RunState {
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

/** A run that would stop again at once is refused, naming the flag to raise and by how much. */
function refuseReachedLimits(state: RunState, runDir: string): void {
  const reached = limitsReached(state);
  const first = reached[0];
  if (!first) return;
  const what = reached.map((l) => l.what).join(" and ");
  if (reached.some((l) => l.raised === null)) {
    throw new RunStateError(
      `the run in ${runDir} stopped at ${what}, the most azlon allows`,
      "start a new run with a narrower task instead",
    );
  }
  throw new RunStateError(
    `the run in ${runDir} stopped at ${what}; resumed as it is, it would stop again at once`,
    `raise ${reached.map((l) => l.flag).join(" and ")}: ${continueCommand(state, runDir)}`,
  );
}

export async function resumeCommand(dir: string, flags: ResumeFlags, ctx: CliContext): Promise<number> {
  const runDir = resolve(ctx.cwd, dir);
  const apiKey = apiKeyFrom(ctx.env);
  const redactor = redactorFor(ctx.env, apiKey);
  const folder = new RunFolder(runDir, redactor);
  const state = readRunState(folder, runDir);
  if (state.status === "passed") {
    throw new RunStateError(`the run in ${runDir} has passed already; there is nothing to resume`);
  }
  const leg = state.legs.at(-1);
  if (
    state.status === "running" &&
    leg?.pid &&
    leg.host === hostname() &&
    processAlive(leg.pid) &&
    !flags.force
  ) {
    throw new RunStateError(
      `the run in ${runDir} is still going (process ${leg.pid})`,
      "wait for it or stop it; if that process is not azlon (its number was reused), pass --force",
    );
  }
  if (state.status === "running" && leg) {
    // That leg was killed before it could write its end (kill -9, a crash, a reboot).
    leg.status = "interrupted";
    leg.endedAt = state.updatedAt;
  }

  // Only the raised limits come from the command line, validated like any config; the
  // config files around are not read (the run has its own options).
  const overrides: Record<string, unknown> = {};
  for (const key of RESUME_CONFIG_FLAGS)
    if (flags[key] !== undefined) overrides[key] = coerceFlag(key, flags[key]);
  const given = validateLayer(overrides, flagSource("resume"));
  const o = state.options;
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
  if (o.baseUrl && hasUrlCredentials(o.baseUrl)) {
    // A run of an older azlon stored such a URL with its credentials masked.
    throw new RunStateError(
      "the run's base URL held a user name or password, which were not stored",
      `pass --base-url without them; ${URL_CREDENTIALS_HINT}`,
    );
  }
  checkCostBudget(o);
  refuseReachedLimits(state, runDir);

  const templates = loadTemplates(o.prompts, runDir);
  const target = resolveDockerTarget({ env: ctx.env, home: ctx.env.HOME ?? "/" });
  const { connectDocker } = await import("../../sandbox/docker-sandbox.js");
  const { docker } = await connectDocker(target);
  folder.init();
  return executeRun({
    ctx,
    state,
    folder,
    apiKey,
    templates,
    docker,
    json: !!flags.json,
    redactor,
    junit: typeof flags.junit === "string" ? resolve(ctx.cwd, flags.junit) : null,
  });
}
