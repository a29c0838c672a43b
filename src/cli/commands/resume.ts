import { resolve } from "node:path";
import { coerceFlag, flagSource, validateLayer } from "../../config/load.js";
import { RunStateError } from "../../core/errors.js";
import type { RunState } from "../../core/state.js";
import { Engine } from "../../engine/engine.js";
import { apiKeyFrom, redactorFor } from "../../engine/options.js";
import { openRun, RESUME_KEYS } from "../../engine/runs.js";
import { loadTemplates } from "../../prompts/templates.js";
import { continueCommand, limitsReached } from "../continue.js";
import type { CliContext } from "../io.js";
import { executeRun } from "../session.js";

export interface ResumeFlags {
  json?: boolean;
  [key: string]: unknown;
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
  // Only the raised limits come from the command line, validated like any config; the
  // config files around are not read (the run has its own options).
  const overrides: Record<string, unknown> = {};
  for (const key of RESUME_KEYS) if (flags[key] !== undefined) overrides[key] = coerceFlag(key, flags[key]);
  const given = validateLayer(overrides, flagSource("resume"));
  const redactor = redactorFor(ctx.env, apiKey, given.baseUrl ?? null);
  // Locked from here (a second resume is refused at once, naming this one) until the run ends.
  // run.json keeps the base URL's query secrets masked: OPENAI_BASE_URL may hold them.
  const prepared = openRun(runDir, redactor, given, {
    force: !!flags.force,
    baseUrls: [ctx.env.OPENAI_BASE_URL],
    by: "azlon resume",
  });
  let engine: Engine;
  try {
    refuseReachedLimits(prepared.state, runDir);
    // A template with an unknown placeholder fails here, before the engine is reached.
    loadTemplates(prepared.state.options.prompts, runDir);
    engine = await Engine.connect(ctx.env, apiKey, redactor);
    await engine.prepare(prepared.state.options);
    prepared.folder.init();
  } catch (error) {
    prepared.folder.close();
    throw error;
  }
  return executeRun({ ctx, engine, prepared, flags });
}
