import { createHash, randomBytes, randomUUID } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { currentProcess, identityChecked, type ProcessRef, processState } from "../util/liveness.js";

/**
 * An exclusive lock held by a live process: a file holding who holds it (process, start
 * time, host, since when). Nothing times it out: a holder that is gone (kill -9, a crash, a
 * zombie, a reboot) is seen to be gone, so the next process takes the lock at once, and a
 * holder that is alive keeps it however long it works.
 *
 * Why not a lock library: proper-lockfile (mkdir, refreshed mtime) takes a lock back only once
 * it is stale by time, so a `kill -9` blocks the next process for that long, and a holder
 * busy past it loses the lock; Node has no flock(2) without a native module, which the single
 * executable cannot carry.
 *
 * Race-free: the record is written whole to a temporary file and linked to the lock's name
 * (link(2) fails if the name exists), so no reader sees half a record. A dead holder's lock
 * is removed only under a guard named after that record, taken the same way: of the processes
 * racing for it one removes it (and only while it still holds that record), and the others then
 * find the winner's record, which is alive.
 */

/** Who holds a lock. */
export interface LockHolder extends ProcessRef {
  /** When it was taken (ISO time). */
  since: string;
  /** What holds it, for people: "azlon resume", "azlon serve". */
  by: string;
  /** Unique to this taking of the lock, so a record is never mistaken for another. */
  token: string;
}

/** A lock held by a live process that azlon may not take. */
export class LockBusyError extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockHolder,
    /** "elsewhere": on another host, which cannot be asked. */
    readonly state: "alive" | "elsewhere",
    /** Whether --force may take it: it cannot be proved to be that very azlon. */
    readonly forceable: boolean,
  ) {
    super(`${path} is held by ${describeHolder(holder)}`);
    this.name = "LockBusyError";
  }
}

export interface LockOptions {
  by: string;
  /** Take the lock from a holder whose life cannot be checked (another host, no start time). */
  force?: boolean;
  /** Called before a dead holder's lock is removed: lets a test run a second taker there. */
  beforeTakeover?: (holder: LockHolder) => void;
}

/** "azlon resume (process 123 on host-b, since 2026-11-25T10:00:01Z)" */
export function describeHolder(holder: LockHolder, here: string = hostname()): string {
  const where = holder.host === here ? "" : ` on ${holder.host}`;
  return `${holder.by} (process ${holder.pid}${where}, since ${holder.since.replace(/\.\d+Z$/, "Z")})`;
}

/** A lock this process holds, until release(). */
export class HeldLock {
  private released = false;
  constructor(
    readonly path: string,
    readonly holder: LockHolder,
    private readonly text: string,
  ) {}

  /** Frees the lock (if it is still this one's: a forced taker may have taken it). */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (readRaw(this.path) === this.text) rmSync(this.path, { force: true });
  }
}

/** How many times the lock may change hands under us before azlon gives up. */
const ATTEMPTS = 50;
/** A record still being written where hard links are missing (see writeExclusive). */
const WRITING_GRACE_MS = 2000;

/** Takes the lock at `path`, or throws LockBusyError naming its live holder. */
export function acquireLock(path: string, options: LockOptions): HeldLock {
  const holder: LockHolder = {
    ...currentProcess(),
    since: new Date().toISOString(),
    by: options.by,
    token: randomUUID(),
  };
  const text = `${JSON.stringify(holder)}\n`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (writeExclusive(path, text)) return new HeldLock(path, holder, text);
    const raw = readRaw(path);
    if (raw === null) continue; // released meanwhile
    const found = parseHolder(raw);
    if (found) {
      const state = processState(found);
      if (state !== "gone") {
        const forceable = state === "elsewhere" || !identityChecked(found);
        if (!(options.force && forceable)) throw new LockBusyError(path, found, state, forceable);
      }
      options.beforeTakeover?.(found);
    } else if (!writtenLongAgo(path)) {
      pause(100); // being written: ATTEMPTS pauses outlast WRITING_GRACE_MS
      continue;
    }
    removeIfStill(path, raw, text);
  }
  throw new Error(`the lock ${path} kept changing hands; try again`);
}

/** Who holds the lock at `path` (alive or not), or null when it is free or unreadable. */
export function readLock(path: string): LockHolder | null {
  const raw = readRaw(path);
  return raw === null ? null : parseHolder(raw);
}

/**
 * Removes `path` if it still holds `raw` (a dead holder's record). The guard, one per record,
 * lets one process at a time decide, so none can remove a record that replaced `raw`.
 */
function removeIfStill(path: string, raw: string, guardText: string): void {
  const guard = `${path}.${createHash("sha256").update(raw).digest("hex").slice(0, 16)}.takeover`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (writeExclusive(guard, guardText)) {
      try {
        if (readRaw(path) === raw) unlinkSync(path);
      } finally {
        rmSync(guard, { force: true });
      }
      return;
    }
    const guardRaw = readRaw(guard);
    if (guardRaw === null) continue;
    const taker = parseHolder(guardRaw);
    if (taker && processState(taker) !== "gone") {
      // Another process is taking it over this very moment: its record will be there next.
      pause(10);
      return;
    }
    if (!taker && !writtenLongAgo(guard)) {
      pause(10);
      continue;
    }
    // That taker died in the middle: its guard goes the same way, under a guard of its own.
    removeIfStill(guard, guardRaw, guardText);
  }
}

/** Creates `path` holding `text`, whole, unless it exists (false). */
function writeExclusive(path: string, text: string): boolean {
  const temp = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  writeSynced(temp, text, "wx");
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes(code ?? "")) throw error;
    // A file system without hard links (FAT, some network shares): created empty, then
    // written; a reader meanwhile finds no record and waits (WRITING_GRACE_MS).
    try {
      writeSynced(path, text, "wx");
      return true;
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw inner;
    }
  } finally {
    rmSync(temp, { force: true });
  }
}

function writeSynced(path: string, text: string, flag: "wx"): void {
  const fd = openSync(path, flag);
  try {
    const bytes = Buffer.from(text);
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
  closeSync(fd);
}

function readRaw(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

function parseHolder(raw: string): LockHolder | null {
  try {
    const value = JSON.parse(raw) as Partial<LockHolder>;
    if (
      Number.isInteger(value?.pid) &&
      typeof value.host === "string" &&
      typeof value.since === "string" &&
      typeof value.by === "string" &&
      typeof value.token === "string"
    ) {
      return {
        pid: value.pid as number,
        host: value.host,
        start: typeof value.start === "string" ? value.start : null,
        since: value.since,
        by: value.by,
        token: value.token,
      };
    }
  } catch {
    // Not a record: being written, or not azlon's.
  }
  return null;
}

/** An unreadable record older than the grace is not being written: its writer died. */
function writtenLongAgo(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > WRITING_GRACE_MS;
  } catch {
    return true;
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
