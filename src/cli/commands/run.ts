import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolveConfig } from "../../config/load.js";
import type { ConfigKey } from "../../config/schema.js";
import { UsageError } from "../../core/errors.js";
import { newRunState } from "../../core/state.js";
import { loadTemplates } from "../../prompts/templates.js";
import { resolveDockerTarget } from "../../sandbox/connection.js";
import { fileErrorCause } from "../../util/file-errors.js";
import { RunFolder } from "../../workspace/run-folder.js";
import { checkOptionsFrom } from "../checks.js";
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
  "hideChecks",
  "checkTimeout",
  "service",
  "ready",
  "readyTimeout",
  "verdict",
  "modelRetries",
  "modelTimeout",
];

/** All of standard input, as text. */
async function readStdin(ctx: CliContext, flag: string): Promise<string> {
  if (!ctx.stdin) {
    throw new UsageError(`--${flag}-file - reads standard input, which this azlon was not given`);
  }
  if ((ctx.stdin as { isTTY?: boolean }).isTTY) {
    ctx.stderr.write(`azlon: reading --${flag} from the terminal; end it with Ctrl-D\n`);
  }
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of ctx.stdin) {
    text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

function readFileText(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read --${flag}-file ${path}: ${fileErrorCause(error)}`,
      code === "EISDIR"
        ? `name a file, not a folder (or "-" for standard input)`
        : code === "ENOENT" || code === "ENOTDIR"
          ? "check the path; a relative one starts from the current folder"
          : "check the file's permissions",
    );
  }
}

async function readText(
  ctx: CliContext,
  text: string | undefined,
  file: string | undefined,
  flag: string,
  what: string,
): Promise<string> {
  if (text !== undefined && file !== undefined) {
    throw new UsageError(`give either --${flag} or --${flag}-file, not both`);
  }
  let value: string;
  if (file === "-") {
    value = await readStdin(ctx, flag);
  } else if (file !== undefined) {
    value = readFileText(resolve(ctx.cwd, file), flag);
  } else if (text !== undefined) {
    value = text;
  } else {
    throw new UsageError(`missing --${flag} (or --${flag}-file): ${what}`, "see `azlon run --help`");
  }
  if (value.trim() === "") throw new UsageError(`--${flag} is empty: ${what}`);
  return value.trim();
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
  if (flags.promptFile === "-" && flags.testsFile === "-") {
    throw new UsageError(
      "--prompt-file - and --tests-file - cannot both read standard input",
      "give one of them as a file, or as text with --prompt / --tests",
    );
  }
  const prompt = await readText(ctx, flags.prompt, flags.promptFile, "prompt", "what to build");
  const tests = await readText(ctx, flags.tests, flags.testsFile, "tests", "how to tell that it works");
  const configFlags: Partial<Record<ConfigKey, unknown>> = {};
  for (const key of RUN_CONFIG_FLAGS) if (flags[key] !== undefined) configFlags[key] = flags[key];
  // --check (repeatable) is the config's "checks"; --checks <dir> is "checksDir".
  if (Array.isArray(flags.check)) configFlags.checks = flags.check;
  if (flags.checks !== undefined) configFlags.checksDir = flags.checks;
  const { config } = await resolveConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    flags: configFlags,
    configPath: flags.config ?? null,
  });
  const outDir = resolve(ctx.cwd, config.out);
  const options = toRunOptions(config, outDir);
  Object.assign(options, checkOptionsFrom(config, ctx.cwd, options.limits.runTimeoutMs));
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
    throw outDirError(outDir, error);
  }
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
