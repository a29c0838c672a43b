import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { ApplyReport, Changes, FileEntry, RefusedPath } from "../core/types.js";
import { cutEcho } from "../util/echo.js";
import { applyEdit } from "./edits.js";
import { boundReport, DOCKERFILE } from "./paths.js";

/** What the project looks like now, as the model is shown it. */
export interface Snapshot {
  dockerfile: string;
  files: FileEntry[];
}

/** A file with a NUL byte in its first 8000 is binary (as git decides). */
const BINARY_SAMPLE = 8000;

async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/**
 * Why writing `rel` under `root` would leave the workspace or clobber something, or null.
 * Every folder on the way must be a real folder (not a symbolic link), and the file itself
 * must not be a link or a folder.
 */
async function unsafeTarget(root: string, rel: string, kind: "write" | "delete"): Promise<string | null> {
  const parts = rel.split("/");
  let current = root;
  for (const [i, part] of parts.entries()) {
    current = join(current, part);
    const stat = await lstatOrNull(current);
    if (!stat) return null;
    const last = i === parts.length - 1;
    if (stat.isSymbolicLink()) {
      return last
        ? "is a symbolic link"
        : `passes through a symbolic link (${parts.slice(0, i + 1).join("/")})`;
    }
    if (!last && !stat.isDirectory())
      return `needs ${parts.slice(0, i + 1).join("/")} to be a folder, but it is a file`;
    if (last && kind === "write" && stat.isDirectory()) return "is a folder";
  }
  return null;
}

/**
 * Applies changes to the workspace folder: the Dockerfile, whole files, then edits in order
 * (each against the file as the earlier changes left it), then deletions. Paths were checked
 * by normalizeChanges already; an edit that cannot apply is refused, the rest still apply.
 * The report is bounded as it is echoed (boundReport).
 */
export async function applyChanges(root: string, changes: Changes): Promise<ApplyReport> {
  await mkdir(root, { recursive: true });
  const refused: RefusedPath[] = [...changes.refused];
  const written: string[] = [];
  const deleted: string[] = [];
  const notes = [...changes.notes];
  let dockerfileChanged = false;

  if (changes.dockerfile !== null) {
    const reason = await unsafeTarget(root, DOCKERFILE, "write");
    if (reason) refused.push({ path: DOCKERFILE, reason });
    else {
      await writeFile(join(root, DOCKERFILE), changes.dockerfile);
      dockerfileChanged = true;
    }
  }
  for (const file of changes.files) {
    const reason = await unsafeTarget(root, file.path, "write");
    if (reason) {
      refused.push({ path: cutEcho(file.path), reason });
      continue;
    }
    const target = join(root, file.path);
    await mkdir(join(target, ".."), { recursive: true });
    await writeFile(target, file.content);
    written.push(file.path);
  }
  for (const [i, edit] of changes.edits.entries()) {
    const path = edit.path;
    const refuseEdit = (reason: string) =>
      refused.push({ path: cutEcho(path), reason: `edit ${i + 1} refused: ${reason}` });
    const unsafe = await unsafeTarget(root, path, "write");
    if (unsafe) {
      refuseEdit(`the path ${unsafe}`);
      continue;
    }
    const target = join(root, path);
    if (!(await lstatOrNull(target))) {
      refuseEdit("the file does not exist; send a new file whole in files");
      continue;
    }
    const data = await readFile(target);
    if (data.subarray(0, BINARY_SAMPLE).includes(0)) {
      refuseEdit("the file is binary; edits change text files only");
      continue;
    }
    const outcome = applyEdit(data.toString("utf8"), edit.search, edit.replace);
    if (!outcome.ok) {
      refuseEdit(outcome.reason);
      continue;
    }
    const bytes = Buffer.byteLength(outcome.content);
    if (bytes > changes.maxFileBytes) {
      refuseEdit(`the file would grow to ${bytes} bytes; the limit is ${changes.maxFileBytes}`);
      continue;
    }
    if (outcome.fuzzy) {
      notes.push(
        `edit ${i + 1} to ${cutEcho(path)} matched only with trailing whitespace and line endings ignored; applied there`,
      );
    }
    await writeFile(target, outcome.content);
    if (path === DOCKERFILE) dockerfileChanged = true;
    else if (!written.includes(path)) written.push(path);
  }
  for (const path of changes.delete) {
    const reason = await unsafeTarget(root, path, "delete");
    if (reason) {
      refused.push({ path: cutEcho(path), reason });
      continue;
    }
    const target = join(root, path);
    if (!(await lstatOrNull(target))) {
      notes.push(`${cutEcho(path)} was to be deleted but does not exist`);
      continue;
    }
    await rm(target, { recursive: true, force: true });
    deleted.push(path);
  }
  return boundReport({ written, deleted, refused, dockerfileChanged, notes });
}

/**
 * Reads the workspace back: the Dockerfile and every other file, sorted by path. With `only`,
 * just those paths (and the Dockerfile): a large project of the user's is shown in part.
 */
export async function snapshot(root: string, only?: readonly string[]): Promise<Snapshot> {
  const files: FileEntry[] = [];
  let dockerfile = "";
  const wanted = only ? new Set([...only, DOCKERFILE]) : null;
  const add = async (full: string, rel: string) => {
    const data = await readFile(full);
    const binary = data.subarray(0, BINARY_SAMPLE).includes(0);
    const content = binary ? `[binary file, ${data.length} bytes]` : data.toString("utf8");
    if (rel === DOCKERFILE) dockerfile = content;
    else files.push({ path: rel, content });
  };
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const rel = relative(root, full).split(sep).join("/");
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) await add(full, rel);
    }
  }
  if (wanted) {
    for (const rel of wanted) {
      // Only real files reached through real folders: never a link's target.
      if (!(await unsafeTarget(root, rel, "write")) && (await lstatOrNull(join(root, rel)))?.isFile()) {
        await add(join(root, rel), rel);
      }
    }
  } else await walk(root);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { dockerfile, files };
}

/**
 * A digest of everything a build sees: each file's path, whether it is executable, and its
 * bytes (binary files too), in path order; `extra` adds what else decides the outcome (the
 * limits). Equal digests mean a rebuild would build the same image and run the same program.
 */
export async function hashWorkspace(root: string, extra = ""): Promise<string> {
  const entries: Array<{ rel: string; full: string; mode: number }> = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const rel = relative(root, full).split(sep).join("/");
        entries.push({ rel, full, mode: (await lstat(full)).mode & 0o111 });
      }
    }
  }
  await walk(root);
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const hash = createHash("sha256").update(`${extra}\0`);
  for (const e of entries) {
    const data = await readFile(e.full);
    hash.update(`${e.rel}\0${e.mode}\0${data.length}\0`).update(data);
  }
  return hash.digest("hex");
}
