import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolveConfig } from "../../config/load.js";
import type { ConfigKey } from "../../config/schema.js";
import { UsageError } from "../../core/errors.js";
import { newRunState } from "../../core/state.js";
import { loadTemplates } from "../../prompts/templates.js";
import { resolveDockerTarget } from "../../sandbox/connection.js";
import { RunFolder } from "../../workspace/run-folder.js";
import type { CliContext } from "../io.js";
import { apiKeyFrom, checkCostBudget, executeRun, redactorFor, toRunOptions } from "../session.js";

/** The flags of `azlon run`, as commander hands them over. */
export interface RunFlags {
  prompt?: string;
  promptFile?: string;
  tests?: string;
  testsFile?: string;
  json?: boolean;
  config?: string;
  [key: string]: unknown;
}

/** Flags that map one-to-one onto config keys. */
export const RUN_CONFIG_FLAGS: readonly ConfigKey[] = [
  "model",
  "baseUrl",
  "maxIterations",
  "out",
  "runTimeout",
  "buildTimeout",
  "memory",
  "cpus",
  "pids",
  "network",
  "baseImage",
  "structuredOutput",
  "maxReplyTokens",
  "maxTokens",
  "maxCost",
  "maxTime",
];

function readText(
  ctx: CliContext,
  text: string | undefined,
  file: string | undefined,
  flag: string,
  what: string,
): string {
  if (text !== undefined && file !== undefined) {
    throw new UsageError(`give either --${flag} or --${flag}-file, not both`);
  }
  let value: string;
  if (file !== undefined) {
    const path = resolve(ctx.cwd, file);
    try {
      value = readFileSync(path, "utf8");
    } catch {
      throw new UsageError(`cannot read --${flag}-file ${path}`, "check the path");
    }
  } else if (text !== undefined) {
    value = text;
  } else {
    throw new UsageError(`missing --${flag} (or --${flag}-file): ${what}`, "see `azlon run --help`");
  }
  if (value.trim() === "") throw new UsageError(`--${flag} is empty: ${what}`);
  return value.trim();
}

/** "20261124-214800-hello-world-3f9a": sortable, readable, unique, valid in an image name. */
export function newRunId(prompt: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const slug = prompt
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 24)
    .replace(/-+$/, "");
  return [stamp, slug || "run", randomBytes(2).toString("hex")].join("-");
}

export async function runCommand(flags: RunFlags, ctx: CliContext): Promise<number> {
  const prompt = readText(ctx, flags.prompt, flags.promptFile, "prompt", "what to build");
  const tests = readText(ctx, flags.tests, flags.testsFile, "tests", "how to tell that it works");
  const configFlags: Partial<Record<ConfigKey, unknown>> = {};
  for (const key of RUN_CONFIG_FLAGS) if (flags[key] !== undefined) configFlags[key] = flags[key];
  const { config } = await resolveConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    flags: configFlags,
    configPath: flags.config ?? null,
  });
  const outDir = resolve(ctx.cwd, config.out);
  const options = toRunOptions(config, outDir);
  checkCostBudget(options);
  const apiKey = apiKeyFrom(ctx.env);
  const templates = loadTemplates(config.prompts, ctx.cwd);
  const target = resolveDockerTarget({ env: ctx.env, home: ctx.env.HOME ?? "/" });
  // Fail on an unreachable engine before anything is written.
  const { connectDocker } = await import("../../sandbox/docker-sandbox.js");
  const { docker } = await connectDocker(target);

  const now = new Date();
  let runId = newRunId(prompt, now);
  while (existsSync(join(outDir, runId))) runId = newRunId(prompt, now);
  const redactor = redactorFor(ctx.env, apiKey);
  const folder = new RunFolder(join(outDir, runId), redactor);
  const state = newRunState(runId, { prompt, tests }, options, now);
  try {
    folder.init();
    folder.saveState(state);
  } catch (error) {
    throw new UsageError(
      `cannot create the run folder in ${outDir}: ${(error as Error).message}`,
      "choose another --out, or fix that folder's permissions or free space",
    );
  }
  return executeRun({ ctx, state, folder, apiKey, templates, docker, json: !!flags.json, redactor });
}
