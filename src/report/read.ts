import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { RunState } from "../core/state.js";
import { CHECKS_FILE, VERDICT_FILE, type VerdictRecord } from "../core/steps/records.js";
import type { ChecksReport } from "../core/types.js";
import { readRun } from "../engine/runs.js";
import { Redactor } from "../util/secrets.js";
import { CHANGES_FILE, type FileChange } from "../workspace/changes.js";
import { ITERATIONS_DIR, type RunFolder } from "../workspace/run-folder.js";

export type { FileChange };

/** The end of a log, bounded: what was cut from its start is counted. */
export interface LogTail {
  text: string;
  totalBytes: number;
  cutBytes: number;
}

/** Everything a view of one round needs, from run.json and iterations/NN/. */
export interface IterationView {
  iteration: number;
  summary: RunState["iterations"][number];
  outputTail: LogTail | null;
  buildLogTail: LogTail | null;
  checks: ChecksReport | null;
  verdict: VerdictRecord | null;
  changes: FileChange[] | null;
}

/** A workspace file: its text, or null when binary or over the bound. */
export interface WorkspaceFile {
  path: string;
  bytes: number;
  text: string | null;
}

export interface RunView {
  dir: string;
  state: RunState;
  iterations: IterationView[];
  files: WorkspaceFile[];
  /** Workspace files left out once the report's bound on them was reached. */
  filesLeftOut: number;
  /** A run from the user's project: the change against its snapshot (changes.patch), bounded. */
  change: PatchView | null;
}

/** changes.patch as the views show it: its first PATCH_BYTES, and how large it is. */
export interface PatchView {
  path: string;
  text: string;
  bytes: number;
  truncated: boolean;
}

/** The most of changes.patch a view shows; the file in the run folder is whole. */
export const PATCH_BYTES = 256 * 1024;

/** The run's changes.patch (a run from the user's project), or null when there is none. */
export function readPatch(dir: string): PatchView | null {
  const path = join(dir, "changes.patch");
  if (!existsSync(path)) return null;
  const bytes = statSync(path).size;
  const buffer = Buffer.alloc(Math.min(bytes, PATCH_BYTES));
  const fd = openSync(path, "r");
  try {
    readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  return { path, text: buffer.toString("utf8"), bytes, truncated: bytes > PATCH_BYTES };
}

export const TAIL_BYTES = 16 * 1024;
const FILE_BYTES = 128 * 1024;
const ALL_FILES_BYTES = 2 * 1024 * 1024;

/** The last `bytes` of a file (cut at a line start where one is near), or null when it is absent. */
export function readTail(path: string, bytes = TAIL_BYTES): LogTail | null {
  if (!existsSync(path)) return null;
  const size = statSync(path).size;
  const start = Math.max(0, size - bytes);
  const buffer = Buffer.alloc(size - start);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(fd);
  }
  let text = buffer.toString("utf8");
  let cut = start;
  if (start > 0) {
    // Start at a whole line (and a whole character) when one begins soon enough.
    const newline = text.indexOf("\n");
    if (newline >= 0 && newline < 1024) {
      cut += Buffer.byteLength(text.slice(0, newline + 1));
      text = text.slice(newline + 1);
    }
  }
  return { text, totalBytes: size, cutBytes: cut };
}

function iterationPath(dir: string, n: number, name: string): string {
  return join(dir, ITERATIONS_DIR, String(n).padStart(2, "0"), name);
}

function readJson<T>(folder: RunFolder, n: number, name: string): T | null {
  try {
    return folder.readIterationJson<T>(n, name);
  } catch {
    // A record cut short by a crash: the view shows what else there is.
    return null;
  }
}

/** One round as the views show it. */
export function readIteration(folder: RunFolder, state: RunState, n: number): IterationView {
  return {
    iteration: n,
    summary: state.iterations.find((i) => i.iteration === n) ?? { iteration: n },
    outputTail: readTail(iterationPath(folder.dir, n, "output.log")),
    buildLogTail: readTail(iterationPath(folder.dir, n, "build.log")),
    checks: readJson<ChecksReport>(folder, n, CHECKS_FILE),
    verdict: readJson<VerdictRecord>(folder, n, VERDICT_FILE),
    changes: readJson<FileChange[]>(folder, n, CHANGES_FILE),
  };
}

function walk(root: string, dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(root, full, out);
    else if (entry.isFile()) out.push(relative(root, full).split(sep).join("/"));
  }
}

/** The workspace's files, sorted, with their text within the bounds. */
export function readWorkspace(folder: RunFolder): { files: WorkspaceFile[]; leftOut: number } {
  const paths: string[] = [];
  if (existsSync(folder.workspaceDir)) walk(folder.workspaceDir, folder.workspaceDir, paths);
  paths.sort();
  const files: WorkspaceFile[] = [];
  let budget = ALL_FILES_BYTES;
  let leftOut = 0;
  for (const path of paths) {
    const full = join(folder.workspaceDir, path);
    const bytes = statSync(full).size;
    if (bytes > budget) {
      leftOut++;
      continue;
    }
    let text: string | null = null;
    if (bytes <= FILE_BYTES) {
      const tail = readTail(full, FILE_BYTES);
      text = tail && !tail.text.includes("\0") ? tail.text : null;
    }
    budget -= text === null ? 0 : bytes;
    files.push({ path, bytes, text });
  }
  return { files, leftOut };
}

/** Reads a run folder for a view; a folder that is not a run is refused (RunStateError). */
export function readRunView(dir: string): RunView {
  // The run folder was redacted when written; nothing secret is read here.
  const { state, folder } = readRun(dir, Redactor.none());
  const numbers = new Set(state.iterations.map((i) => i.iteration));
  const iterationsDir = join(dir, ITERATIONS_DIR);
  if (existsSync(iterationsDir)) {
    for (const name of readdirSync(iterationsDir)) if (/^\d+$/.test(name)) numbers.add(Number(name));
  }
  const iterations = [...numbers].sort((a, b) => a - b).map((n) => readIteration(folder, state, n));
  const { files, leftOut } = readWorkspace(folder);
  return { dir, state, iterations, files, filesLeftOut: leftOut, change: readPatch(dir) };
}
