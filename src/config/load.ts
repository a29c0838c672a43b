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
import { loadConfigFile, searchConfig, userConfigFile } from "./search.js";
import { checkFoundFile, checkFoundLayer, codeRefused, trustedByEnv } from "./trust.js";
import { acceptsFor, closestKey, shownValue } from "./wording.js";

/** Where a value came from: "config" is the project's config file, "user" the user's own. */
export type ConfigSource = "default" | "user" | "config" | "env" | "flag";

export interface ResolvedConfig {
  config: Config;
  /** The project's config file used, if any. */
  configPath: string | null;
  /** Whether it may act for the user (named with --config, or trusted); null without one. */
  trusted: boolean | null;
  /** The user's own config file used, if any. */
  userConfigPath: string | null;
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

/** A config file's layer: validated, its template paths made absolute from the file's folder. */
function fileLayer(data: unknown, path: string): ConfigInput {
  const layer = validateLayer(data, fileSource(path));
  if (layer.prompts) {
    const base = dirname(path);
    layer.prompts = Object.fromEntries(
      Object.entries(layer.prompts).map(([k, v]) => [k, resolve(base, v as string)]),
    );
  }
  return layer;
}

interface ProjectConfig {
  path: string;
  folder: string;
  data: unknown;
  trusted: boolean;
}

/**
 * The project's config: the file named with --config (trusted: the user chose it), else the
 * one the search finds, which is the folder author's. Found code is never run untrusted.
 */
async function projectConfig(
  cwd: string,
  explicit: string | null,
  trusted: boolean,
): Promise<ProjectConfig | null> {
  if (explicit) {
    const path = isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
    return { path, folder: dirname(path), data: await loadConfigFile(path), trusted: true };
  }
  const found = await searchConfig(cwd);
  if (!found) return null;
  if (!trusted) {
    checkFoundFile(found.path, found.folder);
    if (found.data === undefined) throw codeRefused(found.path);
  }
  const data = found.data !== undefined ? found.data : await loadConfigFile(found.path);
  return { path: found.path, folder: found.folder, data, trusted };
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
  /** --trust-config: the config azlon finds may act for the user (AZLON_TRUST_CONFIG=1 too). */
  trustConfig?: boolean;
  /** The command whose flags these are (their errors point at its --help); default `run`. */
  source?: LayerSource;
}

/** Keys whose values are objects of their own keys, merged layer over layer. */
const MERGED_KEYS = new Set<string>(["prompts", "prices"]);

/**
 * Flags > environment > project config > user config > defaults, each layer validated with a
 * one-line error. The project config is the one named with --config (trusted), else the one
 * found from the working folder up, which acts for the user only when trusted (trust.ts).
 */
export async function resolveConfig(input: ResolveInput): Promise<ResolvedConfig> {
  const sources = Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, "default"])) as Record<
    ConfigKey,
    ConfigSource
  >;
  const trusted = !!input.trustConfig || trustedByEnv(input.env);
  const userPath = userConfigFile(input.env);
  const userLayer = userPath ? fileLayer(await loadConfigFile(userPath), userPath) : {};
  const project = await projectConfig(input.cwd, input.configPath, trusted);
  const projectLayer = project ? fileLayer(project.data, project.path) : {};

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

  if (project && !project.trusted) {
    const overridden = new Set(
      [...Object.entries(envLayer), ...Object.entries(flagLayer)]
        .filter(([, v]) => v !== undefined)
        .map(([k]) => k),
    );
    checkFoundLayer(projectLayer, {
      path: project.path,
      folder: project.folder,
      cwd: input.cwd,
      overridden,
      userBaseUrl: userLayer.baseUrl,
      userBaseUrlSource: userLayer.baseUrl !== undefined ? `set in ${userPath}` : "the default",
    });
  }

  const config = { ...DEFAULTS } as Config;
  const layers: Array<[ConfigInput, ConfigSource]> = [
    [userLayer, "user"],
    [projectLayer, "config"],
    [envLayer, "env"],
    [flagLayer, "flag"],
  ];
  for (const [layer, source] of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const target = config as Record<string, unknown>;
      target[key] = MERGED_KEYS.has(key) ? { ...(target[key] as object), ...(value as object) } : value;
      sources[key as ConfigKey] = source;
    }
  }
  return {
    config,
    configPath: project?.path ?? null,
    trusted: project ? project.trusted : null,
    userConfigPath: userPath,
    sources,
  };
}
