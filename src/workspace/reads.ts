import { lstat, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import type { FileEntry, RefusedPath } from "../core/types.js";
import { cutEcho } from "../util/echo.js";
import { formatBytes } from "../util/format.js";
import { checkPath } from "./paths.js";

/** A file with a NUL byte in its first 8000 is binary (as git decides). */
const BINARY_SAMPLE = 8000;

export interface ReadBounds {
  /** A larger file is shown cut: its start and its end, the cut marked. */
  maxFileBytes: number;
  maxPathLength: number;
}

/** A file's text within the bound: whole, or its first three quarters and last quarter. */
function bounded(text: string, bytes: number, max: number): string {
  if (bytes <= max) return text;
  const data = Buffer.from(text);
  const head = data.subarray(0, Math.floor(max * 0.75)).toString("utf8");
  const tail = data.subarray(data.length - Math.floor(max * 0.25)).toString("utf8");
  return `${head}\n[… ${formatBytes(bytes - max)} of this ${formatBytes(bytes)} file cut here; edits must match text shown …]\n${tail}`;
}

/**
 * Files of the workspace the model asked to see, each within the bound. A path outside the
 * workspace, through or to a symbolic link, a folder, a binary file or a missing one is
 * refused with the reason, as a refused path is.
 */
export async function readWorkspaceFiles(
  root: string,
  paths: readonly string[],
  bounds: ReadBounds,
): Promise<{ files: FileEntry[]; refused: RefusedPath[] }> {
  const files: FileEntry[] = [];
  const refused: RefusedPath[] = [];
  const refuse = (path: string, reason: string) =>
    refused.push({ path: cutEcho(path), reason: `read refused: ${reason}` });
  for (const raw of paths) {
    const check = checkPath(raw, bounds);
    if (!check.ok) {
      refuse(raw, `the path ${check.reason}`);
      continue;
    }
    const parts = check.path.split("/");
    let current = root;
    let problem: string | null = null;
    for (const [i, part] of parts.entries()) {
      current = join(current, part);
      const stat = await lstat(current).catch(() => null);
      const last = i === parts.length - 1;
      if (!stat) problem = "it does not exist (the map lists the project's files)";
      else if (stat.isSymbolicLink()) {
        problem = last
          ? `it is a symbolic link to ${cutEcho(await readlink(current))}, which azlon does not follow`
          : `it passes through a symbolic link (${parts.slice(0, i + 1).join("/")})`;
      } else if (!last && !stat.isDirectory())
        problem = `${parts.slice(0, i + 1).join("/")} is a file, not a folder`;
      else if (last && stat.isDirectory()) problem = "it is a folder; ask for the files in it by their paths";
      if (problem) break;
    }
    if (problem) {
      refuse(check.path, problem);
      continue;
    }
    const data = await readFile(current);
    if (data.subarray(0, BINARY_SAMPLE).includes(0)) {
      refuse(check.path, `it is a binary file (${formatBytes(data.length)}), which cannot be shown`);
      continue;
    }
    if (files.some((f) => f.path === check.path)) continue;
    files.push({
      path: check.path,
      content: bounded(data.toString("utf8"), data.length, bounds.maxFileBytes),
    });
  }
  return { files, refused };
}
