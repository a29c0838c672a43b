import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { ConfigError } from "../core/errors.js";
import { maskUrlSecrets } from "../util/secrets.js";
import { DEFAULT_BASE_URL } from "./defaults.js";
import type { ConfigInput } from "./schema.js";

/**
 * Workspace trust, as Codex and VS Code have it, for a CLI. A config file azlon *finds* in the
 * folder it runs in is the folder's author's: unless the user trusts it, it may not send the
 * API key to another endpoint than the user chose, name files outside its own folder, or run
 * code. A config the user names (--config) or keeps as their own (~/.config/azlon) is trusted.
 */
export const TRUST_FLAG = "--trust-config";
export const TRUST_ENV = "AZLON_TRUST_CONFIG";

/** The fix of every refusal: how to trust the folder's config, or do without it. */
export function trustHint(otherwise: string): string {
  return `if you trust this folder's config, pass ${TRUST_FLAG} (or set ${TRUST_ENV}=1); else ${otherwise}`;
}

/** Said after a project config's path: whether it acts for the user. */
export function trustNote(trusted: boolean | null): string {
  return trusted === false ? ` (found here, not trusted: ${TRUST_FLAG} trusts it)` : "";
}

/** Whether the environment trusts found configs: AZLON_TRUST_CONFIG=1 (or true, yes). */
export function trustedByEnv(env: Record<string, string | undefined>): boolean {
  const value = env[TRUST_ENV]?.trim().toLowerCase();
  if (value === undefined || value === "" || value === "0" || value === "false" || value === "no")
    return false;
  if (value === "1" || value === "true" || value === "yes") return true;
  throw new ConfigError(
    `${TRUST_ENV} must be 1 (trust the config azlon finds) or 0 (got "${env[TRUST_ENV]}")`,
    `set ${TRUST_ENV}=1 or unset it`,
  );
}

/** A found config that is code: never run unless trusted. */
export function codeRefused(path: string): ConfigError {
  return new ConfigError(
    `${path} is code (a JavaScript or TypeScript config), and azlon runs a config it finds only when you trust it`,
    trustHint(`write it as JSON or YAML (.azlonrc.json, .azlonrc), or remove it`),
  );
}

/** The path with every existing part's symbolic links resolved; the rest appended as it is. */
export function realPath(path: string): string {
  const rest: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(current), ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return join(current, ...rest.reverse());
      rest.push(basename(current));
      current = parent;
    }
  }
}

/** Whether `path`, its links resolved, is `folder` or inside it. */
export function isInside(path: string, folder: string): boolean {
  const rel = relative(realPath(folder), realPath(path));
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The endpoint a base URL stands for, to compare two: null is the default; no trailing slash. */
function endpointOf(baseUrl: string | null | undefined): string {
  const url = baseUrl ?? DEFAULT_BASE_URL;
  try {
    return new URL(url).href.replace(/\/+$/, "");
  } catch {
    return url;
  }
}

/** A found config file that is a symbolic link out of its folder is someone else's file. */
export function checkFoundFile(path: string, folder: string): void {
  if (isInside(path, folder)) return;
  throw new ConfigError(
    `${path} leads to ${realPath(path)} (a symbolic link), outside the folder it was found in (${folder}); a config azlon finds may name only files in its own folder`,
    trustHint("remove the link"),
  );
}

/**
 * What in a layer someone else wrote (a config azlon finds, a batch task's options) would loosen
 * the box the model's code runs in, or the meter a budget is kept by: the key, whether the layer
 * does, what it would do, and the flag the user may give instead.
 */
export const LOOSENING: ReadonlyArray<
  readonly [key: keyof ConfigInput, loosens: (layer: ConfigInput) => boolean, what: string, flag: string]
> = [
  [
    "network",
    (l) => l.network === "bridge",
    "would let the model's programs reach the network",
    "--network bridge",
  ],
  [
    "builder",
    (l) => l.builder === "buildkit",
    "would free every build step from the memory and CPU limits",
    "--builder buildkit",
  ],
  [
    "prices",
    (l) => l.prices !== undefined && Object.keys(l.prices).length > 0,
    "would set the prices --max-cost is kept by",
    "",
  ],
];

export interface FoundLayerContext {
  /** The found file and the folder it was found in. */
  path: string;
  folder: string;
  cwd: string;
  /** Keys a higher layer (environment, flags) sets: the file's values of them are never used. */
  overridden: ReadonlySet<string>;
  /** The endpoint the user chose without this file: their user config's, or null (the default). */
  userBaseUrl: string | null | undefined;
  /** Where that endpoint comes from, for the message. */
  userBaseUrlSource: string;
}

/**
 * Refuses what an untrusted found config may not do: change the endpoint the key goes to, or
 * name a file outside its folder (a symbolic link that leads out counts as outside). Its
 * prompt paths are already absolute (relative to the file); out and checksDir are relative
 * to the working folder, as azlon resolves them.
 */
export function checkFoundLayer(layer: ConfigInput, ctx: FoundLayerContext): void {
  const name = (key: string) => `"${key}" in ${ctx.path}`;
  if (layer.baseUrl !== undefined && !ctx.overridden.has("baseUrl")) {
    if (endpointOf(layer.baseUrl) !== endpointOf(ctx.userBaseUrl)) {
      throw new ConfigError(
        `${name("baseUrl")} would send your API key to ${maskUrlSecrets(endpointOf(layer.baseUrl))}, not to the endpoint you chose (${maskUrlSecrets(endpointOf(ctx.userBaseUrl))}, ${ctx.userBaseUrlSource}); a config azlon finds may not change where the key goes`,
        trustHint("give the endpoint yourself with --base-url or OPENAI_BASE_URL, or remove baseUrl from it"),
      );
    }
  }
  // Nor loosen the box the model's code runs in, or the meter a budget is kept by.
  for (const [key, loosens, what, flag] of LOOSENING) {
    if (!loosens(layer) || ctx.overridden.has(key)) continue;
    throw new ConfigError(
      `${name(key)} ${what}; a config azlon finds may not loosen the run's limits`,
      trustHint(`${flag ? `give ${flag} yourself, or ` : ""}remove ${key} from it`),
    );
  }
  const paths: Array<[string, string]> = [];
  for (const key of ["out", "checksDir"] as const) {
    const value = layer[key];
    if (typeof value === "string" && !ctx.overridden.has(key)) paths.push([key, resolve(ctx.cwd, value)]);
  }
  for (const [template, path] of Object.entries(layer.prompts ?? {})) {
    if (typeof path === "string") paths.push([`prompts.${template}`, path]);
  }
  for (const [key, path] of paths) {
    if (isInside(path, ctx.folder)) continue;
    const real = realPath(path);
    const via = real === resolve(path) ? "" : `, which leads to ${real} (a symbolic link)`;
    const flag = key === "out" ? "--out" : key === "checksDir" ? "--checks" : null;
    throw new ConfigError(
      `${name(key)} names ${path}${via}, outside the folder it was found in (${ctx.folder}); a config azlon finds may name only files in its own folder`,
      trustHint(`${flag ? `give ${flag} yourself, or ` : ""}remove ${key} from it`),
    );
  }
}
