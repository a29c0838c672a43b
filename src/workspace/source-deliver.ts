import { rmSync } from "node:fs";
import { chmod, lstat, mkdir, readlink, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { SourceRecord } from "../core/types.js";
import { git, gitSync, gitText } from "./git.js";
import type { SourceFile, TreeEntry } from "./source-list.js";
import { entryDiff, headEntries } from "./source-snapshot.js";
import type { SourceStore } from "./source-store.js";

/** One path's change from the snapshot to the run's end. */
export interface PathChange {
  path: string;
  before: TreeEntry | null;
  after: TreeEntry | null;
}

/** Why a branch cannot be made with this name in the repository, or null when it can. */
export function branchProblem(top: string, name: string): string | null {
  const format = gitSync(["check-ref-format", "--branch", name], { cwd: top, allowFail: true });
  if (format.code !== 0) return `"${name}" is not a valid branch name`;
  const exists = gitSync(["rev-parse", "-q", "--verify", `refs/heads/${name}`], {
    cwd: top,
    allowFail: true,
  });
  if (exists.code === 0) return `a branch named ${name} exists already`;
  return null;
}

/**
 * The commit of a branch this run made already (a run stopped after making it, then resumed),
 * told by the run id in its message; else null.
 */
export function branchMadeBy(top: string, name: string, runId: string): string | null {
  const log = gitSync(["log", "-1", "--format=%H%x00%B", `refs/heads/${name}`, "--"], {
    cwd: top,
    allowFail: true,
  });
  if (log.code !== 0) return null;
  const [sha = "", body = ""] = log.stdout.toString().split("\0");
  return body.includes(`azlon, run ${runId}.`) ? sha.trim() : null;
}

const AZLON = { name: "azlon", email: "azlon@localhost" };

/** Who commits: the user, as their git config says; azlon when it says nothing. */
function committer(top: string): Record<string, string> {
  const ident = gitSync(["var", "GIT_COMMITTER_IDENT"], { cwd: top, allowFail: true });
  if (ident.code === 0) return {};
  return {
    GIT_AUTHOR_NAME: AZLON.name,
    GIT_AUTHOR_EMAIL: AZLON.email,
    GIT_COMMITTER_NAME: AZLON.name,
    GIT_COMMITTER_EMAIL: AZLON.email,
  };
}

export interface BranchInput {
  record: SourceRecord;
  store: SourceStore;
  runDir: string;
  name: string;
  /** The snapshot's entries, and the change azlon made to them. */
  snapshot: TreeEntry[];
  changes: PathChange[];
  message: string;
  wipMessage: string;
}

/**
 * A new branch on the snapshot's HEAD: the user's uncommitted work as it was (when the tree was
 * dirty) as one commit, then azlon's change as the next. Made with git plumbing and an index
 * file of azlon's own: the user's working tree, index, HEAD and current branch are not touched;
 * only new objects and the new branch are written. The branch is created, never moved: one made
 * meanwhile under the same name makes this fail, and stays as it was.
 */
export async function makeBranch(input: BranchInput): Promise<string> {
  const { record, store, runDir, name } = input;
  const top = record.top;
  const indexFile = join(runDir, "branch.index");
  rmSync(indexFile, { force: true });
  const env = committer(top);
  const call = (extra: { input?: Buffer | string; env?: Record<string, string> } = {}) => ({
    cwd: top,
    indexFile,
    ...extra,
    env: { ...env, ...extra.env },
  });
  const full = (path: string) => `${record.prefix}${path}`;
  /** Puts entries (and removals) into the temporary index, their blobs into the user's store. */
  const stage = async (changed: readonly TreeEntry[], removed: readonly string[]) => {
    const blobs = changed.filter((e) => e.mode !== "160000").map((e) => e.sha);
    if (blobs.length)
      await git(["unpack-objects", "-q"], call({ input: await store.pack([...new Set(blobs)]) }));
    const zero = "0".repeat(record.objectFormat === "sha256" ? 64 : 40);
    const lines = [
      ...removed.map((p) => `0 ${zero}\t${full(p)}\0`),
      ...changed.map((e) => `${e.mode} ${e.sha}\t${full(e.path)}\0`),
    ];
    if (lines.length) await git(["update-index", "-z", "--index-info"], call({ input: lines.join("") }));
    return gitText(["write-tree"], call());
  };
  const commit = async (tree: string, parent: string | null, message: string, extraEnv = {}) =>
    gitText(
      ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-F", "-"],
      call({ input: message, env: extraEnv }),
    );
  try {
    if (record.commit) await git(["read-tree", record.commit], call());
    let parent = record.commit;
    if (record.dirty) {
      const { changed, removed } = entryDiff(await headEntries(record), input.snapshot);
      parent = await commit(await stage(changed, removed), parent, input.wipMessage);
    }
    const changed = input.changes.flatMap((c) => (c.after ? [c.after] : []));
    const removed = input.changes.filter((c) => !c.after).map((c) => c.path);
    const tree = await stage(changed, removed);
    const own = await commit(tree, parent, input.message, {
      GIT_AUTHOR_NAME: AZLON.name,
      GIT_AUTHOR_EMAIL: AZLON.email,
    });
    const zero = "0".repeat(record.objectFormat === "sha256" ? 64 : 40);
    await git(
      ["update-ref", "-m", `azlon: ${input.message.split("\n")[0]}`, `refs/heads/${name}`, own, zero],
      {
        cwd: top,
      },
    );
    return own;
  } finally {
    rmSync(indexFile, { force: true });
  }
}

/** Whether the file at path in the folder is as the entry says (or absent, for null). */
async function unchanged(
  dir: string,
  path: string,
  entry: TreeEntry | null,
  store: SourceStore,
): Promise<boolean> {
  const parts = path.split("/");
  let current = dir;
  for (const part of parts.slice(0, -1)) {
    current = join(current, part);
    try {
      const stat = await lstat(current);
      // A folder on the way that is now a link (or a file) is not where the snapshot was.
      if (!stat.isDirectory()) return false;
    } catch {
      return entry === null;
    }
  }
  const full = join(dir, path);
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(full);
  } catch {
    return entry === null;
  }
  if (entry === null) return false;
  let file: SourceFile;
  if (stat.isSymbolicLink()) {
    if (entry.mode !== "120000") return false;
    const target = await readlink(full);
    file = { path, kind: "link", size: Buffer.byteLength(target), target };
  } else if (stat.isFile()) {
    const kind = stat.mode & 0o111 ? "exec" : "file";
    if (entry.mode !== (kind === "exec" ? "100755" : "100644")) return false;
    file = { path, kind, size: stat.size };
  } else return false;
  const sha = (await store.hash(dir, [file], false)).get(path);
  return sha === entry.sha;
}

/**
 * Writes the change into the user's folder, only when every file it touches is still as the
 * snapshot had it: otherwise nothing is written, and the files changed since are named. Only
 * the working tree is written (never git's index), each file whole through a temporary name.
 */
export async function applyToFolder(
  dir: string,
  store: SourceStore,
  changes: readonly PathChange[],
): Promise<{ applied: boolean; changedSince: string[] }> {
  const changedSince: string[] = [];
  for (const c of changes) {
    if (c.after?.mode === "160000" || c.before?.mode === "160000") continue;
    if (!(await unchanged(dir, c.path, c.before, store))) changedSince.push(c.path);
  }
  if (changedSince.length) return { applied: false, changedSince };
  const shas = changes.flatMap((c) => (c.after && c.after.mode !== "160000" ? [c.after.sha] : []));
  const blobs = await store.blobs([...new Set(shas)]);
  for (const c of changes) {
    const full = join(dir, c.path);
    if (!c.after) {
      await rm(full, { force: true });
      continue;
    }
    if (c.after.mode === "160000") continue;
    const data = blobs.get(c.after.sha) ?? Buffer.alloc(0);
    await mkdir(dirname(full), { recursive: true });
    const temp = `${full}.azlon-${process.pid}`;
    if (c.after.mode === "120000") {
      await symlink(data.toString(), temp);
    } else {
      await writeFile(temp, data);
      await chmod(temp, c.after.mode === "100755" ? 0o755 : 0o644);
    }
    try {
      await rename(temp, full);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
  }
  return { applied: true, changedSince: [] };
}
