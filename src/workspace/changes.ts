import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ApplyReport, Changes } from "../core/types.js";
import { DOCKERFILE } from "./paths.js";

/** iterations/NN/changes.json: what a round's apply step changed, for the web page's diffs. */
export const CHANGES_FILE = "changes.json";

/** Contents longer than this are recorded as null, marked truncated. */
export const MAX_RECORDED_BYTES = 256 * 1024;

export interface FileChange {
  path: string;
  /** null: the file did not exist (created), or was too large (truncated). */
  before: string | null;
  /** null: the file was deleted, or was too large (truncated). */
  after: string | null;
  truncated?: true;
}

type Contents = { text: string | null; truncated: boolean };

async function contentsOf(root: string, path: string): Promise<Contents> {
  try {
    const target = join(root, path);
    const stat = await lstat(target);
    if (!stat.isFile()) return { text: null, truncated: false };
    if (stat.size > MAX_RECORDED_BYTES) return { text: null, truncated: true };
    return { text: await readFile(target, "utf8"), truncated: false };
  } catch {
    return { text: null, truncated: false };
  }
}

/** The paths the changes may touch. */
export function touchedBy(changes: Changes): string[] {
  return [
    ...(changes.dockerfile !== null ? [DOCKERFILE] : []),
    ...changes.files.map((f) => f.path),
    ...changes.edits.map((e) => e.path),
    ...changes.delete,
  ];
}

/** The paths the changes may touch, read before they are applied. */
export async function readBefore(root: string, changes: Changes): Promise<Map<string, Contents>> {
  const paths = touchedBy(changes);
  const before = new Map<string, Contents>();
  for (const path of paths) if (!before.has(path)) before.set(path, await contentsOf(root, path));
  return before;
}

/** What the apply step did to each file it wrote or deleted, before and after. */
export async function changeRecord(
  root: string,
  before: Map<string, Contents>,
  applied: ApplyReport,
): Promise<FileChange[]> {
  const touched = [
    ...(applied.dockerfileChanged ? [DOCKERFILE] : []),
    ...applied.written,
    ...applied.deleted,
  ];
  const out: FileChange[] = [];
  for (const path of new Set(touched)) {
    const was = before.get(path) ?? { text: null, truncated: false };
    const now = applied.deleted.includes(path)
      ? { text: null, truncated: false }
      : await contentsOf(root, path);
    const change: FileChange = { path, before: was.text, after: now.text };
    if (was.truncated || now.truncated) change.truncated = true;
    out.push(change);
  }
  return out;
}
