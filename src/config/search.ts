import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "../core/errors.js";

/**
 * Where a project's config is looked for in each folder, in this order: cosmiconfig's places
 * for the name "azlon". The search is azlon's own, not cosmiconfig's: cosmiconfig's search also
 * reads a "meta config" (.config/config.js, "cosmiconfig" in package.json) from the working
 * folder, running its code and letting it add places and imports, before azlon could judge it.
 */
export const SEARCH_PLACES = [
  "package.json",
  ".azlonrc",
  ".azlonrc.json",
  ".azlonrc.yaml",
  ".azlonrc.yml",
  ".azlonrc.js",
  ".azlonrc.ts",
  ".azlonrc.cjs",
  ".azlonrc.mjs",
  ".config/azlonrc",
  ".config/azlonrc.json",
  ".config/azlonrc.yaml",
  ".config/azlonrc.yml",
  ".config/azlonrc.js",
  ".config/azlonrc.ts",
  ".config/azlonrc.cjs",
  ".config/azlonrc.mjs",
  "azlon.config.js",
  "azlon.config.ts",
  "azlon.config.cjs",
  "azlon.config.mjs",
] as const;

/** The user's own config files, in $XDG_CONFIG_HOME/azlon (else ~/.config/azlon), in this order. */
export const USER_CONFIG_FILES = ["config.yaml", "config.yml", "config.json"] as const;

const CODE_EXTENSIONS = new Set([".js", ".cjs", ".mjs", ".ts", ".cts", ".mts"]);

/** Whether loading this config file runs it (JavaScript or TypeScript). */
export function isCode(path: string): boolean {
  return CODE_EXTENSIONS.has(extname(path).toLowerCase());
}

/** A config file found, with its data unless it is code (code is loaded only when trusted). */
export interface FoundConfig {
  path: string;
  /** The folder it was found in (for .config/azlonrc, the folder holding .config). */
  folder: string;
  /** Its keys and values; undefined for code, which is not run by the search. */
  data?: unknown;
}

function isPackageFile(path: string): boolean {
  return /^package\.(json|ya?ml)$/.test(basename(path));
}

/** The contents of a file, or null when there is none to read there. */
async function readIfAny(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR" || code === "EACCES") return null;
    throw error;
  }
}

/** Parses a data file (JSON, YAML, or the "azlon" key of package.json) with cosmiconfig's loaders. */
async function parseData(path: string, contents: string): Promise<unknown> {
  const { defaultLoaders } = await import("cosmiconfig");
  const ext = extname(path);
  const loader = ext === ".json" ? defaultLoaders[".json"] : defaultLoaders[".yaml"];
  const data = await loader(path, contents);
  return isPackageFile(path) ? (data as Record<string, unknown> | null)?.azlon : data;
}

function readError(error: unknown, path: string): ConfigError {
  const message = (error as Error).message ?? String(error);
  return new ConfigError(
    `cannot read the config file ${path}: ${message
      .replace(/^(JSON|YAML|TypeScript) Error in [^\n]*:\s*/, "")
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(0, 2)
      .join(" ")}`,
    isCode(path) ? "fix the file, or remove it" : "fix its syntax (JSON or YAML), or remove it",
  );
}

/**
 * Looks for the project's config from `cwd` up to the project root (the first folder with a
 * package.json or package.yaml), as cosmiconfig's "project" search does. Data files are read;
 * a code file is found but never run here. Empty files and a package.json without "azlon" are
 * passed over.
 */
export async function searchConfig(cwd: string): Promise<FoundConfig | null> {
  let dir = resolve(cwd);
  for (;;) {
    for (const place of SEARCH_PLACES) {
      const path = join(dir, place);
      const contents = await readIfAny(path);
      if (contents === null || contents.trim() === "") continue;
      if (isCode(path)) return { path, folder: dir };
      let data: unknown;
      try {
        data = await parseData(path, contents);
      } catch (error) {
        throw readError(error, path);
      }
      if (data !== undefined && data !== null) return { path, folder: dir, data };
    }
    if (existsSync(join(dir, "package.json")) || existsSync(join(dir, "package.yaml"))) return null;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** Reads a config file the user named or trusts: data files parsed, code files run. */
export async function loadConfigFile(path: string): Promise<unknown> {
  const contents = await readIfAny(path);
  if (contents === null) {
    throw new ConfigError(`config file not found: ${path}`, "check the path given to --config");
  }
  if (contents.trim() === "") return {};
  try {
    if (!isCode(path)) return (await parseData(path, contents)) ?? {};
    const { defaultLoaders } = await import("cosmiconfig");
    const ext = extname(path).toLowerCase();
    const loader =
      ext === ".ts" || ext === ".cts" || ext === ".mts" ? defaultLoaders[".ts"] : defaultLoaders[".js"];
    return (await loader(path, contents)) ?? {};
  } catch (error) {
    throw readError(error, path);
  }
}

/** The folder of the user's config: $XDG_CONFIG_HOME/azlon, else ~/.config/azlon; null without a home. */
export function userConfigDir(env: Record<string, string | undefined>): string | null {
  // The XDG spec ignores a relative XDG_CONFIG_HOME.
  const xdg = env.XDG_CONFIG_HOME;
  const home = env.HOME || env.USERPROFILE;
  const base = xdg && isAbsolute(xdg) ? xdg : home ? join(home, ".config") : null;
  return base ? join(base, "azlon") : null;
}

/** The user's config file: the first of USER_CONFIG_FILES that exists there, or null. */
export function userConfigFile(env: Record<string, string | undefined>): string | null {
  const base = userConfigDir(env);
  if (!base) return null;
  for (const name of USER_CONFIG_FILES) {
    const path = join(base, name);
    if (statSync(path, { throwIfNoEntry: false })?.isFile()) return path;
  }
  return null;
}

/** Where the user's config file goes, for messages: $XDG_CONFIG_HOME/azlon/config.yaml or ~/.config/... */
export function userConfigPlace(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_CONFIG_HOME;
  return xdg && isAbsolute(xdg) ? join(xdg, "azlon", "config.yaml") : "~/.config/azlon/config.yaml";
}
