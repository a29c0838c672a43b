import { isAbsolute, relative, resolve, sep } from "node:path";
import type { Config } from "../config/schema.js";
import { UsageError } from "../core/errors.js";
import type { SourceOptions } from "../core/state.js";
import { parseSize } from "../util/format.js";
import { checkPath } from "../workspace/paths.js";
import { branchProblem, listSource } from "../workspace/source.js";

/** The keys a config file found around may not set: they read a folder, or write to one. */
export const SOURCE_FLAG_KEYS = ["from", "branch", "apply"] as const;

/**
 * A config file found around (not the user's flags, nor a file named with --config) that sets
 * from, branch or apply is refused: it could send another folder to the model, or write to one.
 */
export function refuseSourceFromFile(config: Config, sources: Partial<Record<string, string>>): void {
  for (const key of SOURCE_FLAG_KEYS) {
    const value = config[key];
    if (sources[key] === "config" && value !== null && value !== false) {
      throw new UsageError(
        `the config file sets "${key}", which only a flag may set (it reads your folder or writes to it)`,
        `give --${key}${typeof value === "string" ? ` ${value}` : ""} on the command line (or trust the file: --trust-config, or name it with --config), and remove "${key}" from the one found`,
      );
    }
  }
}

/** The Dockerfile --dockerfile names, as a path in the project; it must be one of its files. */
function dockerfileIn(dir: string, given: string, files: ReadonlySet<string>): string {
  const rel = isAbsolute(given) ? relative(dir, given).split(sep).join("/") : given;
  const check = checkPath(rel, { maxPathLength: 4096 });
  if (!check.ok || !files.has(check.path)) {
    throw new UsageError(
      `--dockerfile ${given} is not a file of the project in ${dir}${check.ok ? "" : ` (it ${check.reason})`}`,
      "name the Dockerfile by its path inside the --from folder, e.g. --dockerfile docker/Dockerfile.test",
    );
  }
  return check.path;
}

/**
 * The options of a run from the user's project, checked before any request: the folder is
 * there, is not in the middle of a merge or rebase, is within the bound; the Dockerfile named is
 * one of its files; the branch asked for is a new, valid name in a git repository.
 */
export function sourceOptionsFrom(config: Config, cwd: string, outDir: string): SourceOptions | null {
  if (config.from === null) {
    const without = (["dockerfile", "branch"] as const).find((k) => config[k] !== null);
    const flag = without ?? (config.apply ? "apply" : config.keepDockerfile ? "keep-dockerfile" : null);
    if (flag) throw new UsageError(`--${flag} is for a run from your project: add --from <dir>`);
    return null;
  }
  const dir = resolve(cwd, config.from);
  const maxBytes = parseSize(config.maxFromSize) ?? 200 * 2 ** 20;
  const listing = listSource(dir, maxBytes, outDir);
  const files = new Set(listing.files.filter((f) => f.kind !== "link").map((f) => f.path));
  const dockerfile = config.dockerfile === null ? null : dockerfileIn(dir, config.dockerfile, files);
  if (config.branch !== null) {
    if (listing.kind !== "git") {
      throw new UsageError(
        `--branch needs a git repository, and ${dir} is not in one`,
        "use the patch (changes.patch) or --apply",
      );
    }
    const problem = branchProblem(listing.top, config.branch);
    if (problem)
      throw new UsageError(
        `--branch: ${problem} in ${listing.top}`,
        "choose another name for azlon's branch",
      );
  }
  return {
    dir,
    dockerfile: dockerfile === "Dockerfile" ? null : dockerfile,
    branch: config.branch,
    apply: config.apply,
    keepDockerfile: config.keepDockerfile,
    maxBytes,
  };
}
