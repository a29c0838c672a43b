import { writeFileSync } from "node:fs";
import { lstat, mkdir, readdir, readlink, rm } from "node:fs/promises";
import { join } from "node:path";
import type { SourceOptions } from "../core/state.js";
import type { SourceRecord } from "../core/types.js";
import { GitError, git, splitZ } from "./git.js";
import { DOCKERFILE } from "./paths.js";
import { copyAndHash, hashFiles } from "./source-copy.js";
import { listSource, type SourceFile, type SourceListing, type TreeEntry } from "./source-list.js";
import { modeOf, SourceStore, walkFiles } from "./source-store.js";

/*
 * The snapshot of the user's project and the patch back: the copy into the workspace, kept in
 * the run folder's own git store; and git's diff from it to the workspace at the end.
 */

/** The patch of a --from run, in its run folder: the snapshot to the workspace, as git diffs it. */
export const PATCH_FILE = "changes.patch";

/** Empties a folder (a snapshot taken again after a crash starts from nothing). */
async function emptyFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

/** The project path of the Dockerfile azlon builds with: the one --dockerfile named, or the root's. */
function dockerfileOf(options: SourceOptions): string {
  return options.dockerfile ?? DOCKERFILE;
}

/** The user's files as the workspace holds them: a named Dockerfile becomes the root Dockerfile. */
function workspaceFiles(
  listing: SourceListing,
  options: SourceOptions,
): {
  copied: Array<SourceFile & { from: string }>;
  held: SourceFile[];
} {
  const named = options.dockerfile;
  const copied: Array<SourceFile & { from: string }> = [];
  const held: SourceFile[] = [];
  for (const f of listing.files) {
    if (named !== null && f.path === DOCKERFILE) held.push(f);
    else if (named !== null && f.path === named) copied.push({ ...f, path: DOCKERFILE, from: f.path });
    else copied.push({ ...f, from: f.path });
  }
  return { copied, held };
}

/** HEAD's tree entries under the folder, from the user's repository (read only). */
export async function headEntries(
  record: Pick<SourceRecord, "top" | "prefix" | "commit">,
): Promise<TreeEntry[]> {
  if (!record.commit) return [];
  const spec = record.prefix ? `${record.commit}:${record.prefix.replace(/\/$/, "")}` : record.commit;
  const out = await git(["ls-tree", "-r", "-z", spec], { cwd: record.top, allowFail: true });
  return splitZ(out.stdout).map((line) => {
    const tab = line.indexOf("\t");
    const [mode = "", , sha = ""] = line.slice(0, tab).split(" ");
    return { mode, sha, path: line.slice(tab + 1) };
  });
}

/** The entries of `now` that differ from `base` (added or changed), and the paths gone from it. */
export function entryDiff(base: readonly TreeEntry[], now: readonly TreeEntry[]) {
  const before = new Map(base.map((e) => [e.path, e]));
  const after = new Map(now.map((e) => [e.path, e]));
  const changed = now.filter((e) => {
    const was = before.get(e.path);
    return !was || was.sha !== e.sha || was.mode !== e.mode;
  });
  const removed = base.filter((e) => !after.has(e.path)).map((e) => e.path);
  return { changed, removed };
}

/**
 * Copies the user's project into the workspace and records it in the run folder's own git
 * store: the snapshot's tree, its HEAD and whether the working tree differed from HEAD (the
 * blobs of what differed are kept, for the branch's first commit). The user's folder is only read.
 */
export async function takeSnapshot(
  options: SourceOptions,
  runDir: string,
  workspaceDir: string,
  outDir: string | null,
  signal: AbortSignal,
): Promise<SourceRecord> {
  const listing = listSource(options.dir, options.maxBytes, outDir);
  const { copied, held } = workspaceFiles(listing, options);
  const store = new SourceStore(runDir, listing.objectFormat);
  const base = { top: listing.top, prefix: listing.prefix, commit: listing.commit };
  // The copy, the store and HEAD's tree are independent: git starts while the files copy.
  const [hashes, , head] = await Promise.all([
    emptyFolder(workspaceDir).then(() =>
      copyAndHash(options.dir, workspaceDir, copied, listing.objectFormat, signal),
    ),
    store.init(),
    listing.kind === "git" ? headEntries(base) : Promise.resolve([]),
  ]);
  // A Dockerfile left out of the workspace (another one was named) stays in the project as it is.
  const heldHashes = await store.hash(options.dir, held, true);
  const entries: TreeEntry[] = [
    ...copied.map((f) => ({ mode: modeOf(f), sha: hashes.get(f.path) ?? "", path: f.from })),
    ...held.map((f) => ({ mode: modeOf(f), sha: heldHashes.get(f.path) ?? "", path: f.path })),
    ...listing.held,
  ];
  await store.saveSnapshot(entries);
  let dirty = false;
  if (listing.kind === "git") {
    // What the user changed goes into the branch's first commit: its blobs are kept now,
    // while the workspace still holds them as they were.
    const { changed, removed } = entryDiff(head, entries);
    dirty = changed.length > 0 || removed.length > 0;
    const paths = new Set(changed.map((e) => e.path));
    await store.hash(
      workspaceDir,
      copied.filter((f) => paths.has(f.from)),
      true,
    );
  }
  const dockerfile = dockerfileOf(options);
  return {
    kind: listing.kind,
    top: listing.top,
    prefix: listing.prefix,
    commit: listing.commit,
    branch: listing.branch,
    dirty,
    objectFormat: listing.objectFormat,
    files: entries.length,
    bytes: listing.bytes,
    ownDockerfile: listing.files.some((f) => f.path === dockerfile),
    context: [],
  };
}

/**
 * Keeps the workspace's current copies of these paths in the run's git store, before the apply
 * step changes them: the patch's "before" side needs the snapshot's bytes of every file azlon
 * changes. Only regular files and links directly in the workspace (no path through a link).
 */
export async function preserveBlobs(runDir: string, workspaceDir: string, paths: readonly string[]) {
  const files: SourceFile[] = [];
  for (const path of new Set(paths)) {
    const file = await plainEntry(workspaceDir, path);
    if (file) files.push(file);
    else if (await realFolder(workspaceDir, path)) {
      // A folder deleted whole: every file in it.
      for (const f of await walkFiles(join(workspaceDir, path)))
        files.push({ ...f, path: `${path}/${f.path}` });
    }
  }
  if (!files.length) return;
  // The store's own config says its object format.
  await new SourceStore(runDir, "sha1").hash(workspaceDir, files, true);
}

/** Whether path is a folder reached through real folders only. */
async function realFolder(root: string, path: string): Promise<boolean> {
  let current = root;
  for (const part of path.split("/")) {
    current = join(current, part);
    const stat = await lstat(current).catch(() => null);
    if (!stat?.isDirectory()) return false;
  }
  return true;
}

/** The file at path as a SourceFile when it is a file or a link reached through real folders only. */
export async function plainEntry(root: string, path: string): Promise<SourceFile | null> {
  const parts = path.split("/");
  let current = root;
  for (const [i, part] of parts.entries()) {
    current = join(current, part);
    let stat: Awaited<ReturnType<typeof lstat>>;
    try {
      stat = await lstat(current);
    } catch {
      return null;
    }
    const last = i === parts.length - 1;
    if (!last && !stat.isDirectory()) return null;
    if (last) {
      if (stat.isSymbolicLink()) {
        const target = await readlink(current);
        return { path, kind: "link", size: Buffer.byteLength(target), target };
      }
      if (stat.isFile()) return { path, kind: stat.mode & 0o111 ? "exec" : "file", size: stat.size };
      return null;
    }
  }
  return null;
}

/** The project's files after the run: the workspace mapped back (a named Dockerfile to its path). */
export async function finalEntries(
  record: SourceRecord,
  options: SourceOptions,
  snapshot: readonly TreeEntry[],
  workspaceDir: string,
): Promise<{ entries: TreeEntry[]; files: Map<string, SourceFile> }> {
  const named = options.dockerfile;
  const scaffold = !record.ownDockerfile && !options.keepDockerfile;
  const all = await walkFiles(workspaceDir);
  const files = all.filter(
    (f) => !(f.path === DOCKERFILE && scaffold) && !(named !== null && f.path === named),
  );
  const hashes = await hashFiles(workspaceDir, files, record.objectFormat);
  const entries = files.map((f) => ({
    mode: modeOf(f),
    sha: hashes.get(f.path) ?? "",
    path: named !== null && f.path === DOCKERFILE ? named : f.path,
  }));
  const byProjectPath = new Map(
    files.map((f) => [named !== null && f.path === DOCKERFILE ? named : f.path, f]),
  );
  // What the workspace never held stays as the snapshot had it: submodules, and the root
  // Dockerfile when --dockerfile named another.
  for (const e of snapshot) {
    if (e.mode === "160000" || (named !== null && e.path === DOCKERFILE)) entries.push(e);
  }
  return { entries, files: byProjectPath };
}

/**
 * The change from the snapshot to the workspace: two trees holding only the paths that differ
 * (the snapshot's side and the workspace's), and what changed, path by path. Trees of the whole
 * project would write hundreds of tree objects for a one-line fix; git's diff of these two is
 * the same diff, since every path outside them is the same on both sides.
 */
export async function changeOf(
  record: SourceRecord,
  options: SourceOptions,
  runDir: string,
  workspaceDir: string,
) {
  const store = new SourceStore(runDir, record.objectFormat);
  const snapshot = await store.snapshotEntries();
  const { entries, files } = await finalEntries(record, options, snapshot, workspaceDir);
  const { changed, removed } = entryDiff(snapshot, entries);
  const differ = new Set([...changed.map((e) => e.path), ...removed]);
  const only = (list: readonly TreeEntry[]) => list.filter((e) => differ.has(e.path));
  const [base, tree] = await Promise.all([store.writeTree(only(snapshot)), store.writeTree(only(entries))]);
  const changes = await store.changes(base, tree);
  // The new side's blobs are stored now; the old side's were kept before each apply.
  const written = changes.flatMap((c) => {
    const f = c.after && c.after.mode !== "160000" ? files.get(c.path) : undefined;
    return f ? [f] : [];
  });
  await store.hash(workspaceDir, written, true);
  return { store, base, tree, changes };
}

/** Writes changes.patch (empty when nothing changed); the paths it changes. */
export async function writePatch(
  record: SourceRecord,
  options: SourceOptions,
  runDir: string,
  workspaceDir: string,
): Promise<{ path: string; tree: string; changes: Awaited<ReturnType<SourceStore["changes"]>> }> {
  const { store, base, tree, changes } = await changeOf(record, options, runDir, workspaceDir);
  const before = changes.flatMap((c) => (c.before && c.before.mode !== "160000" ? [c.before.sha] : []));
  const lost = await store.missing(before);
  if (lost.length) {
    throw new GitError(
      `the run folder lacks the snapshot's copy of ${changes.find((c) => c.before?.sha === lost[0])?.path ?? lost[0]}, so no patch can be made`,
    );
  }
  const patch = await store.diff(base, tree, record.prefix);
  const path = join(runDir, PATCH_FILE);
  writeFileSync(path, patch);
  return { path, tree, changes };
}
