import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { EnvironmentError, UsageError } from "../core/errors.js";

/*
 * The one place azlon runs git. The user's repository may be hostile (a folder someone handed
 * over, with its own .git/config): git must never run a program that repository names. So every
 * command runs with the settings that could run one switched off on the command line (which
 * outranks every config file), the system config unread, and no transport allowed; azlon uses
 * only plumbing that runs no filter, hook, pager, editor or external diff (hash-object
 * --no-filters, ls-files, ls-tree, update-index --index-info, write-tree, commit-tree,
 * update-ref, diff-tree, pack-objects/unpack-objects, cat-file).
 */
const SAFE_CONFIG = [
  "core.fsmonitor=false",
  "core.hooksPath=/dev/null",
  "core.untrackedCache=false",
  "core.sshCommand=false",
  "core.askPass=false",
  "core.pager=cat",
  "core.editor=false",
  "core.quotePath=false",
  "core.autocrlf=false",
  "core.safecrlf=false",
  "commit.gpgSign=false",
  "diff.external=",
  "color.ui=false",
  "protocol.allow=never",
  "credential.helper=",
  "gc.auto=0",
  "maintenance.auto=false",
  "advice.detachedHead=false",
].flatMap((c) => ["-c", c]);

/** What git's own environment variables would change: dropped from the one azlon passes on. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("GIT_") && v !== undefined) env[k] = v;
  }
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: "1",
    // No index refresh, no lock taken on the user's repository by a read.
    GIT_OPTIONAL_LOCKS: "0",
    GIT_TERMINAL_PROMPT: "0",
    // A partial clone would fetch a missing object through the repository's remote: never.
    GIT_NO_LAZY_FETCH: "1",
    GIT_ALLOW_PROTOCOL: "azlon-none",
    GIT_NO_REPLACE_OBJECTS: "1",
    LC_ALL: "C",
    ...extra,
  };
}

export interface GitCall {
  /** Where git runs (the repository, or any folder with gitDir). */
  cwd: string;
  /** An explicit repository (azlon's own store); else git finds the one around cwd. */
  gitDir?: string;
  workTree?: string;
  /** A temporary index, so the repository's own is never touched. */
  indexFile?: string;
  input?: Buffer | string;
  env?: Record<string, string>;
  /** Resolve with the exit code instead of throwing when git fails. */
  allowFail?: boolean;
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** A git command that failed: what it was, and git's own words. */
export class GitError extends EnvironmentError {}

function envOf(call: GitCall): NodeJS.ProcessEnv {
  const extra: Record<string, string> = { ...call.env };
  if (call.gitDir) extra.GIT_DIR = call.gitDir;
  if (call.workTree) extra.GIT_WORK_TREE = call.workTree;
  if (call.indexFile) extra.GIT_INDEX_FILE = call.indexFile;
  return cleanEnv(extra);
}

const NO_GIT = () =>
  new UsageError(
    "--from needs git, and no git is on the PATH",
    "install git (azlon uses it to read the project and to make the patch)",
  );

function settle(args: readonly string[], call: GitCall, result: GitResult): GitResult {
  if (result.code !== 0 && !call.allowFail) {
    const said = result.stderr.trim().split("\n").slice(0, 3).join(" ").slice(0, 500);
    throw new GitError(`git ${args[0]} failed: ${said || `exit ${result.code}`}`);
  }
  return result;
}

/** A folder to run git in that is gone (the user's, moved or deleted during a run) says so. */
function checkCwd(cwd: string): void {
  if (!existsSync(cwd)) throw new GitError(`the folder ${cwd} is not there any more`);
}

/** The same, for the checks made before a run starts (a few small, quick commands). */
export function gitSync(args: readonly string[], call: GitCall): GitResult {
  checkCwd(call.cwd);
  const r = spawnSync("git", [...SAFE_CONFIG, ...args], {
    cwd: call.cwd,
    env: envOf(call),
    input: call.input ?? "",
    maxBuffer: 256 * 2 ** 20,
  });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") throw NO_GIT();
  if (r.error) throw r.error;
  return settle(args, call, { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr.toString() });
}

/** Runs git with azlon's safe settings; throws GitError on failure unless allowFail. */
export function git(args: readonly string[], call: GitCall): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    checkCwd(call.cwd);
    const child = spawn("git", [...SAFE_CONFIG, ...args], {
      cwd: call.cwd,
      env: envOf(call),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", (error: NodeJS.ErrnoException) => reject(error.code === "ENOENT" ? NO_GIT() : error));
    // git may exit before reading all of its input (a bad argument): that is its error to tell.
    child.stdin.on("error", () => {});
    child.stdin.end(call.input ?? "");
    child.on("close", (code) => {
      try {
        resolve(
          settle(args, call, {
            code: code ?? 1,
            stdout: Buffer.concat(out),
            stderr: Buffer.concat(err).toString(),
          }),
        );
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** git's output as text, its last newline dropped. */
export async function gitText(args: readonly string[], call: GitCall): Promise<string> {
  return (await git(args, call)).stdout.toString("utf8").replace(/\n$/, "");
}

/** NUL-separated records (the -z output of ls-files, ls-tree, diff-tree). */
export function splitZ(out: Buffer): string[] {
  const text = out.toString("utf8");
  const parts = text.split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}
