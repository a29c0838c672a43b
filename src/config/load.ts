import { dirname, isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { ConfigError } from "../core/errors.js";
import { TEMPLATE_NAMES } from "../prompts/templates.js";
import { hasUrlCredentials } from "../util/secrets.js";
import {
  type Config,
  type ConfigInput,
  type ConfigKey,
  ConfigSchema,
  DEFAULTS,
  NUMERIC_KEYS,
} from "./schema.js";
import { acceptsFor, closestKey, shownValue } from "./wording.js";

export type ConfigSource = "default" | "config" | "env" | "flag";

export interface ResolvedConfig {
  config: Config;
  /** The config file used, if any. */
  configPath: string | null;
  /** Where each key's value came from. */
  sources: Record<ConfigKey, ConfigSource>;
}

/** "--max-iterations" for maxIterations. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Where a layer of configuration came from, and how its keys are named there. */
export interface LayerSource {
  /** Says where the value is when the key's name does not: " in /path/.azlonrc.json". */
  where: string;
  /** How a key is named there: --max-iterations, "maxIterations", AZLON_MODEL. */
  name: (key: string) => string;
  /** What to do about a bad value of the key so named. */
  fix: (name: string) => string;
}

/** The flags of `azlon <command>`. */
export function flagSource(command: string): LayerSource {
  return { where: "", name: flagName, fix: () => `see \`azlon ${command} --help\`` };
}

function fileSource(path: string): LayerSource {
  return { where: ` in ${path}`, name: (k) => `"${k}"`, fix: () => `fix it in ${path}` };
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown, source: LayerSource): string {
  if (issue.code === "unrecognized_keys") {
    const known =
      issue.path.length === 0
        ? Object.keys(DEFAULTS)
        : issue.path[0] === "prompts"
          ? [...TEMPLATE_NAMES]
          : [];
    const keys = issue.keys.map((k) => {
      const guess = closestKey(k, known);
      return `${source.name([...issue.path, k].join("."))}${guess ? ` (did you mean "${guess}"?)` : ""}`;
    });
    return `unknown key${keys.length > 1 ? "s" : ""} ${keys.join(", ")}${source.where}`;
  }
  const name = issue.path.length ? source.name(issue.path.join(".")) : "the config";
  return `${name}${source.where} must be ${acceptsFor(issue)} (got ${shownValue(data, issue.path)})`;
}

/** Validates one layer of configuration; the error names the key, where it is, and the value. */
export function validateLayer(data: unknown, source: LayerSource): ConfigInput {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError(`the config${source.where} must be an object of keys and values`, source.fix(""));
  }
  const result = ConfigSchema.safeParse(data);
  if (!result.success) {
    const first = result.error.issues[0];
    const name = first?.path.length ? source.name(first.path.join(".")) : "";
    throw new ConfigError(
      first ? describeIssue(first, data, source) : `invalid config${source.where}`,
      source.fix(name),
    );
  }
  if (result.data.baseUrl && hasUrlCredentials(result.data.baseUrl)) {
    // Refused rather than masked: it would be sent nowhere (fetch rejects such URLs) and
    // copied into every message that names the endpoint. The URL is not repeated here.
    throw new ConfigError(
      `${source.name("baseUrl")}${source.where} holds a user name or password (user:password@host); azlon takes no credentials in the URL`,
      URL_CREDENTIALS_HINT,
    );
  }
  return result.data;
}

/** How to pass credentials instead of in the base URL. */
export const URL_CREDENTIALS_HINT =
  "remove them from the URL: put the API key or token in OPENAI_API_KEY (sent as the bearer token); " +
  "for a server behind HTTP basic auth, run a local proxy that adds it and point the base URL at the proxy";

/** Finds the config file: the one named, else cosmiconfig's search up to the project root. */
export async function findConfig(
  cwd: string,
  explicit: string | null,
): Promise<{ path: string; data: unknown } | null> {
  const { cosmiconfig } = await import("cosmiconfig");
  const explorer = cosmiconfig("azlon", { searchStrategy: "project" });
  try {
    if (explicit) {
      const path = isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
      const found = await explorer.load(path);
      return found ? { path: found.filepath, data: found.config } : null;
    }
    const found = await explorer.search(cwd);
    return found && !found.isEmpty ? { path: found.filepath, data: found.config } : null;
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (err.code === "ENOENT") {
      throw new ConfigError(`config file not found: ${explicit}`, "check the path given to --config");
    }
    throw new ConfigError(
      `cannot read the config file: ${err.message
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .slice(0, 2)
        .join(" ")}`,
      "fix its syntax (JSON or YAML), or remove it",
    );
  }
}

/** Turns a flag's text into the config's type, so the schema can judge it. */
export function coerceFlag(key: ConfigKey, value: unknown): unknown {
  if (typeof value !== "string" || !NUMERIC_KEYS.includes(key)) return value;
  const trimmed = value.trim();
  return trimmed !== "" && !Number.isNaN(Number(trimmed)) ? Number(trimmed) : value;
}

export interface ResolveInput {
  cwd: string;
  env: Record<string, string | undefined>;
  /** Values given on the command line, by config key (commander's raw text). */
  flags: Partial<Record<ConfigKey, unknown>>;
  /** --config */
  configPath: string | null;
  /** The command whose flags these are (their errors point at its --help); default `run`. */
  source?: LayerSource;
}

/** Flags > environment > config file > defaults, each layer validated with a one-line error. */
export async function resolveConfig(input: ResolveInput): Promise<ResolvedConfig> {
  const sources = Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, "default"])) as Record<
    ConfigKey,
    ConfigSource
  >;
  const found = await findConfig(input.cwd, input.configPath);
  let fileLayer: ConfigInput = {};
  if (found) {
    fileLayer = validateLayer(found.data, fileSource(found.path));
    // Template paths in a config file are relative to that file.
    if (fileLayer.prompts) {
      const base = dirname(found.path);
      fileLayer.prompts = Object.fromEntries(
        Object.entries(fileLayer.prompts).map(([k, v]) => [k, resolve(base, v as string)]),
      );
    }
  }

  const envRaw: Record<string, unknown> = {};
  const envNames: Record<string, string> = {};
  if (input.env.AZLON_MODEL) {
    envRaw.model = input.env.AZLON_MODEL;
    envNames.model = "AZLON_MODEL";
  }
  if (input.env.OPENAI_BASE_URL) {
    envRaw.baseUrl = input.env.OPENAI_BASE_URL;
    envNames.baseUrl = "OPENAI_BASE_URL";
  }
  const envLayer = validateLayer(envRaw, {
    where: "",
    name: (k) => envNames[k] ?? k,
    fix: (name) => `fix or unset ${name}`,
  });

  const flagRaw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input.flags)) {
    if (value !== undefined) flagRaw[key] = coerceFlag(key as ConfigKey, value);
  }
  const flagLayer = validateLayer(flagRaw, input.source ?? flagSource("run"));

  const config = { ...DEFAULTS } as Config;
  const layers: Array<[ConfigInput, ConfigSource]> = [
    [fileLayer, "config"],
    [envLayer, "env"],
    [flagLayer, "flag"],
  ];
  for (const [layer, source] of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      (config as Record<string, unknown>)[key] = value;
      sources[key as ConfigKey] = source;
    }
  }
  return { config, configPath: found?.path ?? null, sources };
}
