import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { DEFAULTS } from "../../config/defaults.js";
import { validateLayer } from "../../config/load.js";
import {
  loadConfigFile,
  SEARCH_PLACES,
  searchConfig,
  USER_CONFIG_FILES,
  userConfigDir,
  userConfigFile,
} from "../../config/search.js";
import { type StarterValues, starterConfig } from "../../config/starter.js";
import { checkFoundLayer } from "../../config/trust.js";
import { ConfigError, UsageError } from "../../core/errors.js";
import { fileErrorCause } from "../../util/file-errors.js";
import { type CliContext, isCI } from "../io.js";

export interface InitFlags {
  global?: boolean;
  model?: string;
  baseUrl?: string;
  check?: string;
}

/** The file `azlon init` writes in the current folder. */
export const PROJECT_FILE = ".azlonrc.yaml";

/** The azlon config already in `folder`, if any: a file of SEARCH_PLACES ("azlon" in package.json counts). */
function existingConfig(folder: string): string | null {
  for (const place of SEARCH_PLACES) {
    const path = join(folder, place);
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) continue;
    if (place !== "package.json") return path;
    try {
      if (JSON.parse(readFileSync(path, "utf8"))?.azlon !== undefined) return path;
    } catch {
      // A package.json that does not parse holds no config azlon could use.
    }
  }
  return null;
}

/** Questions only for a person at a terminal: never in CI, never from a pipe or a file. */
function canAsk(ctx: CliContext): boolean {
  return !!(ctx.stdin as { isTTY?: boolean } | undefined)?.isTTY && !!ctx.stderr.isTTY && !isCI(ctx.env);
}

/** Asks on stderr, reads a line from stdin; an empty answer (or the end of input) takes the default. */
function asker(ctx: CliContext): {
  ask: (question: string, fallback: string) => Promise<string>;
  close(): void;
} {
  const lines = createInterface({ input: ctx.stdin as NodeJS.ReadableStream, terminal: false });
  const queue: string[] = [];
  let waiting: ((line: string | null) => void) | null = null;
  let ended = false;
  // Lines can come in a burst (typed ahead, or pasted): each goes to one question, in order.
  const answer = (line: string | null) => {
    const take = waiting;
    waiting = null;
    if (take) take(line);
    else if (line !== null) queue.push(line);
  };
  lines.on("line", answer);
  lines.on("close", () => {
    ended = true;
    answer(null);
  });
  const next = () =>
    new Promise<string | null>((resolve) => {
      if (queue.length) resolve(queue.shift() ?? null);
      else if (ended) resolve(null);
      else waiting = resolve;
    });
  return {
    async ask(question, fallback) {
      ctx.stderr.write(`${question}${fallback ? ` [${fallback}]` : ""}: `);
      const answer = (await next())?.trim() ?? "";
      return answer || fallback;
    },
    close: () => lines.close(),
  };
}

/** The user's own model, if their config names one: a project's file should not quietly change it. */
async function usersModel(ctx: CliContext): Promise<string | undefined> {
  const path = userConfigFile(ctx.env);
  if (!path) return undefined;
  try {
    const model = ((await loadConfigFile(path)) as { model?: unknown } | null)?.model;
    return typeof model === "string" && model ? model : undefined;
  } catch {
    return undefined;
  }
}

/** The values to write: from the flags, else asked (on a terminal), else the defaults. */
async function chooseValues(flags: InitFlags, ctx: CliContext, global: boolean): Promise<StarterValues> {
  const model =
    flags.model ?? ctx.env.AZLON_MODEL ?? (global ? undefined : await usersModel(ctx)) ?? DEFAULTS.model;
  const values: StarterValues = { model, baseUrl: flags.baseUrl ?? null, check: flags.check ?? null };
  if (!canAsk(ctx)) return values;
  const { ask, close } = asker(ctx);
  try {
    if (flags.model === undefined) values.model = await ask("Model", model);
    if (global && flags.baseUrl === undefined)
      values.baseUrl =
        (await ask(
          "Endpoint, an OpenAI-compatible base URL (empty: OpenAI)",
          ctx.env.OPENAI_BASE_URL ?? "",
        )) || null;
    if (!global && flags.check === undefined)
      values.check =
        (await ask("A check command that must exit 0 in the built image (empty: none)", "")) || null;
  } finally {
    close();
  }
  return values;
}

/**
 * The text to write, checked as `azlon run` will read it: the config schema, and for the
 * project's file the rules a config azlon finds must keep (it is read untrusted).
 */
async function checkedText(values: StarterValues, path: string, global: boolean): Promise<string> {
  const text = starterConfig(values, global ? "user" : "project");
  const { defaultLoaders } = await import("cosmiconfig");
  const data = await defaultLoaders[".yaml"](path, text);
  const layer = validateLayer(data, {
    where: "",
    name: (key) =>
      key === "model" ? "--model" : key === "baseUrl" ? "--base-url" : key === "checks" ? "--check" : key,
    fix: () => "see `azlon init --help`",
  });
  if (!global) {
    const folder = dirname(path);
    checkFoundLayer(layer, {
      path,
      folder,
      cwd: folder,
      overridden: new Set(),
      userBaseUrl: undefined,
      userBaseUrlSource: "the default",
    });
  }
  return text;
}

/**
 * `azlon init`: writes a commented .azlonrc.yaml here (`--global`: the user's own config),
 * asking only a person at a terminal, never overwriting a config, and says what to do next.
 */
export async function initCommand(flags: InitFlags, ctx: CliContext): Promise<number> {
  const global = !!flags.global;
  if (flags.baseUrl !== undefined && !global) {
    throw new UsageError(
      "the endpoint is yours, not the project's: a project's config that sets baseUrl would be refused to anyone who clones it (it could send their API key elsewhere)",
      `put it in your own config: azlon init --global --base-url ${flags.baseUrl} (or set OPENAI_BASE_URL)`,
    );
  }
  const dir = global ? userConfigDir(ctx.env) : ctx.cwd;
  if (!dir) {
    throw new UsageError(
      "cannot tell where your own config goes: neither HOME nor XDG_CONFIG_HOME is set",
      "set HOME (or XDG_CONFIG_HOME to an absolute path)",
    );
  }
  const existing = global
    ? USER_CONFIG_FILES.map((name) => join(dir, name)).find((path) => existsSync(path))
    : existingConfig(dir);
  if (existing) {
    throw new UsageError(
      `${existing} exists already: azlon init writes a new config and never overwrites one`,
      `edit it, or move it away and run azlon init${global ? " --global" : ""} again`,
    );
  }
  const path = join(dir, global ? "config.yaml" : PROJECT_FILE);
  const shadowed = global ? null : await searchConfig(dir).catch(() => null);
  const text = await checkedText(await chooseValues(flags, ctx, global), path, global);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // "wx": a file that appeared since the check above is not overwritten either.
    writeFileSync(path, text, { flag: "wx", mode: global ? 0o600 : 0o644 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      throw new UsageError(`${path} exists already: azlon init never overwrites a config`, "edit it instead");
    throw new ConfigError(`cannot write ${path}: ${fileErrorCause(error)}`, "check the folder's permissions");
  }
  const next = [
    `wrote ${path}`,
    ...(shadowed ? [`(runs here now read it instead of ${shadowed.path})`] : []),
    "",
    "Next:",
    ...(ctx.env.OPENAI_API_KEY || ctx.env.OPENAI_KEY
      ? []
      : ["  export OPENAI_API_KEY=...      # your API key (a local model server takes any)"]),
    ...(global || userConfigFile(ctx.env)
      ? []
      : ["  azlon init --global --base-url http://localhost:11434/v1   # your own endpoint, e.g. Ollama"]),
    "  azlon doctor                   # checks Docker, the key, the endpoint and the model",
    '  azlon run --prompt "a Python CLI that adds two numbers" \\',
    '            --tests "running it prints 2 + 3 = 5 and exits 0"',
  ];
  ctx.stdout.write(`${next.join("\n")}\n`);
  return 0;
}
