import {
  closeSync,
  copyFileSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { LoopEvent } from "../core/events.js";
import type { RunState } from "../core/state.js";
import type { RunStore } from "../core/store.js";
import type { ApplyReport, Changes, FileEntry, RefusedPath } from "../core/types.js";
import { maskUrlSecrets, type Redactor } from "../util/secrets.js";
import { safeJson } from "../util/terminal.js";
import { CHANGES_FILE, changeRecord, readBefore, touchedBy } from "./changes.js";
import { acquireLock, type HeldLock, type LockOptions } from "./lock.js";
import { type ReadBounds, readWorkspaceFiles } from "./reads.js";
import { preserveBlobs } from "./source.js";
import { STORE_DIR } from "./source-store.js";
import { applyChanges, hashWorkspace, type Snapshot, snapshot } from "./workspace.js";

export const RUN_FILE = "run.json";
/** The mark of a run an `azlon serve` owns, and whether it waits in its queue. */
export const SERVE_FILE = "serve.json";
export const EVENTS_FILE = "events.jsonl";
/** Held while a process drives the run: one run, one driver. */
export const LOCK_FILE = "run.lock";
export const WORKSPACE_DIR = "workspace";
export const ITERATIONS_DIR = "iterations";

/**
 * Writes every byte: write(2) may write fewer than asked (a disk that fills up) and says so
 * only by its count; the next call then fails with ENOSPC.
 */
function writeAll(fd: number, bytes: Buffer): void {
  let done = 0;
  while (done < bytes.length) {
    const n = writeSync(fd, bytes, done, bytes.length - done);
    if (n <= 0) throw Object.assign(new Error("no space left: nothing was written"), { code: "ENOSPC" });
    done += n;
  }
}

/**
 * Writes a file so that a crash or a full disk leaves either the old or the new content,
 * never half: the new content goes to a temporary file, which replaces the old one only once
 * it is whole and on disk. On any failure the temporary file is removed and the error thrown.
 */
export function writeFileAtomic(path: string, data: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(temp, "w");
    try {
      writeAll(fd, Buffer.from(data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // The original error is what the user needs to hear.
    }
    throw error;
  }
}

/**
 * The run folder: run.json (replaced atomically), events.jsonl (appended and flushed per
 * event), workspace/ and iterations/NN/. Everything written passes through the redactor.
 */
export class RunFolder implements RunStore {
  readonly workspaceDir: string;
  private eventsFd: number | null = null;
  private held: HeldLock | null = null;

  constructor(
    readonly dir: string,
    private readonly redactor: Redactor,
  ) {
    this.workspaceDir = join(dir, WORKSPACE_DIR);
  }

  /** Makes the folder's skeleton; safe to call on an existing folder. */
  init(): void {
    mkdirSync(this.workspaceDir, { recursive: true });
    mkdirSync(join(this.dir, ITERATIONS_DIR), { recursive: true });
  }

  /** Takes the folder's lock for this process (throws LockBusyError); close() frees it. */
  lock(options: LockOptions): void {
    if (!this.held) this.held = acquireLock(join(this.dir, LOCK_FILE), options);
  }

  static exists(dir: string): boolean {
    return existsSync(join(dir, RUN_FILE));
  }

  iterationDir(n: number): string {
    const dir = join(this.dir, ITERATIONS_DIR, String(n).padStart(2, "0"));
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  logPath(n: number, name: "build.log" | "output.log" | "stdout.log" | "stderr.log"): string {
    return this.iterationFile(n, name);
  }

  checkLogPath(n: number, index: number): string {
    return this.iterationFile(n, `check-${index + 1}.log`);
  }

  iterationFile(n: number, name: string): string {
    return join(this.iterationDir(n), name);
  }

  writeIterationJson(n: number, name: string, value: unknown): void {
    writeFileAtomic(this.iterationFile(n, name), `${safeJson(this.redactor.redactDeep(value), 2)}\n`);
  }

  readIterationJson<T>(n: number, name: string): T | null {
    const path = join(this.dir, ITERATIONS_DIR, String(n).padStart(2, "0"), name);
    if (!existsSync(path)) return null;
    return JSON.parse(readFileSync(path, "utf8")) as T;
  }

  record(event: LoopEvent): void {
    if (this.eventsFd === null) this.eventsFd = openSync(join(this.dir, EVENTS_FILE), "a");
    const fd = this.eventsFd;
    const line = safeJson({ at: new Date().toISOString(), ...this.redactor.redactDeep(event) });
    const size = fstatSync(fd).size;
    try {
      writeAll(fd, Buffer.from(`${line}\n`));
      fdatasyncSync(fd);
    } catch (error) {
      // A full disk may take half a line: cut it off, so the journal stays whole lines.
      try {
        ftruncateSync(fd, size);
      } catch {
        // The write's error is the one to report.
      }
      throw error;
    }
  }

  saveState(state: RunState): void {
    const stored = this.redactor.redactDeep(state);
    // A base URL may carry credentials (https://user:pass@host, ?api-key=...): not kept on disk.
    if (stored.options?.baseUrl) stored.options.baseUrl = maskUrlSecrets(stored.options.baseUrl);
    writeFileAtomic(join(this.dir, RUN_FILE), `${safeJson(stored, 2)}\n`);
  }

  readState(): unknown {
    return JSON.parse(readFileSync(join(this.dir, RUN_FILE), "utf8"));
  }

  /** Applies the changes; with a round's number, records what they changed in its changes.json. */
  async applyChanges(changes: Changes, iteration?: number): Promise<ApplyReport> {
    if (existsSync(join(this.dir, STORE_DIR))) {
      // A run from the user's project: the snapshot's copy of each file is kept before it changes.
      await preserveBlobs(this.dir, this.workspaceDir, touchedBy(changes));
    }
    if (iteration === undefined) return applyChanges(this.workspaceDir, changes);
    const before = await readBefore(this.workspaceDir, changes);
    const applied = await applyChanges(this.workspaceDir, changes);
    this.writeIterationJson(iteration, CHANGES_FILE, await changeRecord(this.workspaceDir, before, applied));
    return applied;
  }

  snapshot(paths?: readonly string[]): Promise<Snapshot> {
    return snapshot(this.workspaceDir, paths);
  }

  readFiles(
    paths: readonly string[],
    bounds: ReadBounds,
  ): Promise<{ files: FileEntry[]; refused: RefusedPath[] }> {
    return readWorkspaceFiles(this.workspaceDir, paths, bounds);
  }

  workspaceHash(extra: string): Promise<string> {
    return hashWorkspace(this.workspaceDir, extra);
  }

  async hashDir(dir: string): Promise<string> {
    try {
      return await hashWorkspace(dir);
    } catch (error) {
      // A folder that cannot be read now differs from the one that was: no reuse.
      return `unreadable: ${(error as NodeJS.ErrnoException).code ?? "error"}`;
    }
  }

  copyLogs(from: number, to: number): void {
    const source = join(this.dir, ITERATIONS_DIR, String(from).padStart(2, "0"));
    if (!existsSync(source)) return;
    for (const name of readdirSync(source)) {
      if (name.endsWith(".log")) copyFileSync(join(source, name), this.iterationFile(to, name));
    }
  }

  /** Closes the journal and frees the lock: the run is no longer driven from here. */
  close(): void {
    const fd = this.eventsFd;
    this.eventsFd = null;
    try {
      if (fd !== null) closeSync(fd);
    } finally {
      this.held?.release();
      this.held = null;
    }
  }
}
