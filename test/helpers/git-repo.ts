import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { tempDir, writeTree } from "./tmp.js";

const IDENTITY = {
  GIT_AUTHOR_NAME: "Test User",
  GIT_AUTHOR_EMAIL: "user@example.com",
  GIT_COMMITTER_NAME: "Test User",
  GIT_COMMITTER_EMAIL: "user@example.com",
};

/** git in a test repository, as its user would run it (with their identity). */
export function gitIn(dir: string, args: string[], input?: string): string {
  return execFileSync("git", args, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, ...IDENTITY, GIT_CONFIG_NOSYSTEM: "1" },
    input,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** A repository in a temp folder with `committed` as its first commit, on branch main. */
export function gitRepo(committed: Record<string, string>, dir = tempDir()): string {
  mkdirSync(dir, { recursive: true });
  gitIn(dir, ["init", "-q", "-b", "main"]);
  writeTree(dir, committed);
  gitIn(dir, ["add", "-A"]);
  gitIn(dir, ["commit", "-q", "-m", "first"]);
  return dir;
}

function walk(root: string, dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const rel = relative(root, full).split(sep).join("/");
    if (rel === ".git") continue;
    const stat = lstatSync(full);
    if (stat.isDirectory()) walk(root, full, out);
    else if (stat.isSymbolicLink()) out.push(`${rel} link ${readlinkSync(full)}`);
    else {
      const hash = createHash("sha256").update(readFileSync(full)).digest("hex").slice(0, 16);
      out.push(`${rel} ${(stat.mode & 0o777).toString(8)} ${hash}`);
    }
  }
}

/**
 * Everything of a repository that azlon promises not to write: HEAD, the branch checked out,
 * the index file's bytes, every ref, and every file of the working tree with its mode.
 */
export function fingerprint(dir: string, skip: (ref: string) => boolean = () => false) {
  const files: string[] = [];
  walk(dir, dir, files);
  const index = join(dir, ".git", "index");
  return {
    head: gitIn(dir, ["rev-parse", "HEAD"]).trim(),
    branch: gitIn(dir, ["symbolic-ref", "-q", "HEAD"]).trim(),
    index: existsSync(index) ? createHash("sha256").update(readFileSync(index)).digest("hex") : null,
    refs: gitIn(dir, ["for-each-ref", "--format=%(refname) %(objectname)"])
      .trim()
      .split("\n")
      .filter((line) => !skip(line.split(" ")[0] ?? "")),
    files: files.sort(),
  };
}
