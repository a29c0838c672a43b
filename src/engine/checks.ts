import { type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import type { Config } from "../config/schema.js";
import { UsageError } from "../core/errors.js";
import {
  type CheckOptions,
  checksOf,
  type RunOptions,
  type ServiceOptions,
  verdictOf,
} from "../core/state.js";
import type { CheckView, FileEntry, VerdictMode } from "../core/types.js";

/** The most a checks folder may hold: it is sent to the engine for every check. */
export const MAX_CHECKS_BYTES = 10 * 2 ** 20;
export const MAX_CHECKS_FILES = 1000;

/** The files of a checks folder, relative paths with forward slashes; symbolic links not followed. */
function listFiles(dir: string): Array<{ path: string; full: string; size: number }> {
  const out: Array<{ path: string; full: string; size: number }> = [];
  const walk = (current: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch (error) {
      throw new UsageError(
        `cannot read the checks folder ${current}: ${(error as Error).message}`,
        "check its permissions",
      );
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        out.push({ path: relative(dir, full).split(sep).join("/"), full, size: statSync(full).size });
        if (out.length > MAX_CHECKS_FILES) {
          throw new UsageError(
            `the checks folder ${dir} holds more than ${MAX_CHECKS_FILES} files`,
            "point --checks at the folder of the check files only",
          );
        }
      }
    }
  };
  walk(dir);
  return out;
}

/** Checks the checks folder before any token is spent: it exists, is a folder, and is small. */
function checksFolder(dir: string): string {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `the checks folder ${dir} ${code === "ENOENT" ? "does not exist" : `cannot be read (${code})`}`,
      "give --checks the folder that holds your check files",
    );
  }
  if (!stat.isDirectory()) {
    throw new UsageError(
      `--checks ${dir} is not a folder`,
      "give --checks the folder that holds your check files",
    );
  }
  const total = listFiles(dir).reduce((sum, f) => sum + f.size, 0);
  if (total > MAX_CHECKS_BYTES) {
    throw new UsageError(
      `the checks folder ${dir} holds ${Math.round(total / 2 ** 20)} MiB; the limit is ${MAX_CHECKS_BYTES / 2 ** 20} MiB`,
      "keep only the check files there (data can be made by the checks themselves)",
    );
  }
  return dir;
}

/** The checks, service and verdict options of a run, from the config; usage errors before any token. */
export function checkOptionsFrom(
  config: Config,
  cwd: string,
): { checks: CheckOptions; service: ServiceOptions | null; verdict: VerdictMode } {
  const commands = config.checks.map((c) => c.trim());
  if (config.checksDir !== null && commands.length === 0) {
    throw new UsageError(
      "--checks gives the check files, but no --check command runs them",
      'add e.g. --check "pytest -q /azlon/checks" (the files are at /azlon/checks)',
    );
  }
  if (config.verdict !== null && config.verdict !== "judge" && commands.length === 0) {
    throw new UsageError(
      `--verdict ${config.verdict} needs at least one --check command`,
      "add --check <command>, or use --verdict judge",
    );
  }
  if (config.service && config.ready === null) {
    throw new UsageError(
      "--service needs --ready <command>: how azlon tells that the service is up",
      'e.g. --ready "wget -q -O /dev/null http://127.0.0.1:8080/"',
    );
  }
  if (config.service && commands.length === 0) {
    throw new UsageError(
      "--service needs at least one --check command: the checks are what run against the service",
      'add e.g. --check "wget -q -O - http://127.0.0.1:8080/health"',
    );
  }
  if (!config.service && config.ready !== null) {
    throw new UsageError("--ready is for a service: add --service", "or leave --ready out");
  }
  if (config.checkImage !== null && commands.length === 0) {
    throw new UsageError(
      "--check-image gives the image the checks run in, but no --check command is given",
      'add e.g. --check "python3 /azlon/checks/test.py" (the project is at /azlon/project)',
    );
  }
  if (config.checksNeed !== null && commands.length === 0) {
    throw new UsageError(
      "--checks-need says what the checks need, and no --check command was given",
      "add --check <command>, or leave --checks-need out",
    );
  }
  if (config.hideChecks && config.checksDir === null) {
    throw new UsageError("--hide-checks hides the files of --checks, and none were given");
  }
  const dir = config.checksDir === null ? null : checksFolder(resolve(cwd, config.checksDir));
  const verdict: VerdictMode = config.verdict ?? (commands.length ? "both" : "judge");
  return {
    checks: {
      commands,
      dir,
      hide: config.hideChecks,
      need: config.checksNeed,
      timeoutMs: config.checkTimeout === null ? null : Math.round(config.checkTimeout * 1000),
      image: config.checkImage,
    },
    service:
      config.service && config.ready !== null
        ? { ready: config.ready, readyTimeoutMs: Math.round(config.readyTimeout * 1000) }
        : null,
    verdict,
  };
}

/**
 * The lines of held-out checks (--hide-checks), to mask wherever they could reach the model: a
 * program or a fake tool in the image that prints /azlon/checks/* must not show them to it.
 */
export function hiddenLinesOf(options: RunOptions): string[] {
  const checks = checksOf(options);
  if (!checks.hide || checks.dir === null) return [];
  const lines = new Set<string>();
  for (const f of listFiles(checksFolder(checks.dir))) {
    const data = readFileSync(f.full);
    if (data.subarray(0, 8000).includes(0)) continue;
    for (const line of data.toString("utf8").split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed) lines.add(trimmed);
    }
  }
  return [...lines];
}

/** The checks as the model is shown them: commands, and the files unless they are held out. */
export function checkViewOf(options: RunOptions): CheckView | null {
  const checks = checksOf(options);
  if (checks.commands.length === 0) return null;
  let files: FileEntry[] = [];
  if (checks.dir !== null) {
    const dir = checksFolder(checks.dir);
    files = listFiles(dir).map((f) => {
      const data = readFileSync(f.full);
      const binary = data.subarray(0, 8000).includes(0);
      return {
        path: f.path,
        content: binary ? `[binary file, ${data.length} bytes]` : data.toString("utf8"),
      };
    });
  }
  return {
    commands: checks.commands,
    names: files.map((f) => f.path),
    files: checks.hide ? null : files,
    ready: options.service?.ready ?? null,
    verdict: verdictOf(options),
    need: checks.need ?? null,
    image: checks.image ?? null,
  };
}
