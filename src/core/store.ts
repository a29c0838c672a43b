import type { ReadBounds } from "../workspace/reads.js";
import type { Snapshot } from "../workspace/workspace.js";
import type { LoopEvent } from "./events.js";
import type { RunState } from "./state.js";
import type { ApplyReport, Changes, FileEntry, RefusedPath } from "./types.js";

/** The run folder as the loop sees it: the journal, run.json, the workspace and per-round records. */
export interface RunStore {
  readonly dir: string;
  readonly workspaceDir: string;
  /** Path of a log inside iterations/NN/ (the folder is created). */
  logPath(iteration: number, name: "build.log" | "output.log" | "stdout.log" | "stderr.log"): string;
  /** Path of check number `index` (from 0)'s full log inside iterations/NN/. */
  checkLogPath(iteration: number, index: number): string;
  writeIterationJson(iteration: number, name: string, value: unknown): void;
  readIterationJson<T>(iteration: number, name: string): T | null;
  saveState(state: RunState): void;
  /** Appends to events.jsonl, flushed before it returns. */
  record(event: LoopEvent): void;
  /** With the round's number, also records what changed (iterations/NN/changes.json). */
  applyChanges(changes: Changes, iteration?: number): Promise<ApplyReport>;
  /** The workspace as the model is shown it; with paths, only those (and the Dockerfile). */
  snapshot(paths?: readonly string[]): Promise<Snapshot>;
  /** Files the model asked to read, each bounded; what cannot be shown is refused with why. */
  readFiles(
    paths: readonly string[],
    bounds: ReadBounds,
  ): Promise<{ files: FileEntry[]; refused: RefusedPath[] }>;
  /** A digest of the workspace's files (paths, modes, bytes) and `extra`. */
  workspaceHash(extra: string): Promise<string>;
  /** A digest of another folder's files (the checks folder), or of its absence. */
  hashDir(dir: string): Promise<string>;
  /** Copies iteration `from`'s logs into iteration `to`'s folder (a round reusing a result). */
  copyLogs(from: number, to: number): void;
}
