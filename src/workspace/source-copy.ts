import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { AbortedError, abortCause, EnvironmentError } from "../core/errors.js";
import type { SourceFile } from "./source-list.js";

/*
 * The copy of the user's files into the workspace and their git blob ids, in one pass. A blob id
 * is the hash of "blob <size>\0" and the bytes (git's own object format), so the bytes read to
 * copy a file are hashed as they go: no second read of 30 MB, and no git process, on the way to
 * the first request. Git still writes every blob the patch or branch needs (hash-object -w), so a
 * disagreement (a SHA-1 collision git's hardened hash refuses) fails there, loudly.
 */

/** Files up to this size are read whole; larger ones in chunks of this size. */
const CHUNK_BYTES = 4 * 2 ** 20;
/** How many files are handled between two turns of the event loop (an abort is heard there). */
const FILES_PER_TURN = 64;

export type ObjectFormat = "sha1" | "sha256";

/** The git blob id of these bytes. */
export function blobId(data: Buffer, format: ObjectFormat): string {
  return createHash(format).update(`blob ${data.length}\0`).update(data).digest("hex");
}

/** Opens a file to read, never through a link (one swapped in since the listing is not followed). */
function openPlain(path: string): number {
  return openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
}

/** One buffer for every read: thousands of small files allocate nothing. */
const shared = Buffer.allocUnsafe(CHUNK_BYTES);

/** Reads an open file from where it is into the shared buffer: its bytes if it ended there, else null. */
function readWhole(fd: number): Buffer | null {
  let filled = 0;
  while (filled < shared.length) {
    const n = readSync(fd, shared, filled, shared.length - filled, null);
    if (n === 0) return shared.subarray(0, filled);
    filled += n;
  }
  return null;
}

/** Reads an open file from its start in chunks; each is handed to `each`. The bytes read. */
function eachChunk(fd: number, each: (chunk: Buffer) => void): number {
  let total = 0;
  for (let n = readSync(fd, shared, 0, shared.length, 0); n > 0; ) {
    each(shared.subarray(0, n));
    total += n;
    n = readSync(fd, shared, 0, shared.length, total);
  }
  return total;
}

/** The blob id of an open file: read whole when small, else in chunks (its size read first). */
function fileBlobId(fd: number, format: ObjectFormat): string {
  const whole = readWhole(fd);
  if (whole) return blobId(whole, format);
  const { size } = fstatSync(fd);
  const hash = createHash(format).update(`blob ${size}\0`);
  const read = eachChunk(fd, (chunk) => hash.update(chunk));
  if (read !== size)
    throw new EnvironmentError(`a file of ${size} bytes read as ${read}: it changed while read`);
  return hash.digest("hex");
}

/** Runs work on each path in turn, yielding to the event loop every few (and stopping once aborted). */
async function eachInTurn<T>(items: readonly T[], work: (item: T) => void, signal?: AbortSignal) {
  for (const [i, item] of items.entries()) {
    if (i % FILES_PER_TURN === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw new AbortedError(abortCause(signal));
    }
    work(item);
  }
}

/**
 * Copies one file, never through a link, into a new file of this mode; gives the blob id of the
 * bytes written (a small file's as read, a large one's read back from the copy, which nothing
 * else writes: a file the user saves meanwhile is copied as one of its versions, whole).
 */
function copyFile(source: string, target: string, mode: number, format: ObjectFormat): string {
  const input = openPlain(source);
  let id: string | null = null;
  try {
    const output = openSync(target, "wx", mode);
    try {
      // The mode given at creation passes through the umask.
      fchmodSync(output, mode);
      const whole = readWhole(input);
      if (whole) {
        writeSync(output, whole);
        id = blobId(whole, format);
      } else eachChunk(input, (chunk) => writeSync(output, chunk));
    } finally {
      closeSync(output);
    }
  } finally {
    closeSync(input);
  }
  if (id) return id;
  const copy = openPlain(target);
  try {
    return fileBlobId(copy, format);
  } finally {
    closeSync(copy);
  }
}

/**
 * Copies files (each from its own path in the project) into the workspace and gives each
 * workspace path's blob id. A link is made as a link, never followed (its target may be outside
 * the project); a file keeps its executable bit as 755 or 644, all a git tree records of a mode
 * (a read-only one would be one the model's edits could not write). Targets are created, never
 * opened if they exist (the workspace was emptied: nothing of the user's is written through).
 * Synchronous file by file: thousands of small files go far faster than through the thread pool.
 */
export async function copyAndHash(
  from: string,
  to: string,
  files: ReadonlyArray<SourceFile & { from: string }>,
  format: ObjectFormat,
  signal: AbortSignal,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const folder of new Set(files.map((f) => dirname(join(to, f.path))))) {
    mkdirSync(folder, { recursive: true });
  }
  await eachInTurn(
    files,
    (f) => {
      const target = join(to, f.path);
      if (f.kind === "link") {
        symlinkSync(f.target ?? "", target);
        ids.set(f.path, blobId(Buffer.from(f.target ?? ""), format));
      } else {
        const mode = f.kind === "exec" ? 0o755 : 0o644;
        ids.set(f.path, copyFile(join(from, f.from), target, mode, format));
      }
    },
    signal,
  );
  return ids;
}

/** The blob ids of files under root as their bytes are (a link as its target), by path. */
export async function hashFiles(
  root: string,
  files: readonly SourceFile[],
  format: ObjectFormat,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  await eachInTurn(files, (f) => {
    if (f.kind === "link") ids.set(f.path, blobId(Buffer.from(f.target ?? ""), format));
    else {
      const fd = openPlain(join(root, f.path));
      try {
        ids.set(f.path, fileBlobId(fd, format));
      } finally {
        closeSync(fd);
      }
    }
  });
  return ids;
}
