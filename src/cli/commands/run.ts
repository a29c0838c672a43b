import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { resolveConfig } from "../../config/load.js";
import type { ConfigKey } from "../../config/schema.js";
import { UsageError } from "../../core/errors.js";
import { Engine } from "../../engine/engine.js";
import { apiKeyFrom, redactorFor, runOptionsFrom } from "../../engine/options.js";
import { createRun } from "../../engine/runs.js";
import { refuseSourceFromFile } from "../../engine/source-options.js";
import { loadTemplates } from "../../prompts/templates.js";
import { fileErrorCause } from "../../util/file-errors.js";
import type { CliContext } from "../io.js";
import { executeRun } from "../session.js";

/** The flags of `azlon run`, as commander hands them over. */
export interface RunFlags {
  prompt?: string;
  promptFile?: string;
  tests?: string;
  testsFile?: string;
  json?: boolean;
  config?: string;
  trustConfig?: boolean;
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
  "builder",
  "structuredOutput",
  "maxReplyTokens",
  "maxTokens",
  "maxCost",
  "maxTime",
  "hideChecks",
  "checkImage",
  "checksNeed",
  "checkTimeout",
  "service",
  "ready",
  "readyTimeout",
  "verdict",
  "modelRetries",
  "modelTimeout",
  "from",
  "dockerfile",
  "branch",
  "apply",
  "keepDockerfile",
  "maxFromSize",
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
  const { config, sources, trusted } = await resolveConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    flags: configFlags,
    configPath: flags.config ?? null,
    trustConfig: !!flags.trustConfig,
  });
  // A config file named with --config (or trusted) is the user's own; one found around is not.
  if (trusted !== true) refuseSourceFromFile(config, sources);
  const options = runOptionsFrom(config, ctx.cwd, resolve(ctx.cwd, config.out));
  const apiKey = apiKeyFrom(ctx.env);
  // A template with an unknown placeholder fails here, before anything is written.
  loadTemplates(config.prompts, ctx.cwd);
  const redactor = redactorFor(ctx.env, apiKey, config.baseUrl);
  // Fail on an unreachable engine before anything is written.
  const engine = await Engine.connect(ctx.env, apiKey, redactor);
  await engine.prepare(options);
  const prepared = createRun({ prompt, tests }, options, redactor);
  return executeRun({ ctx, engine, prepared, flags });
}
