import { createWriteStream, type WriteStream } from "node:fs";
import { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { BoundedText } from "../core/types.js";
import { formatBytes, formatCount } from "../util/format.js";
import type { Redactor, StreamRedactor } from "../util/secrets.js";

export interface CaptureOptions {
  /** The full log on disk; null keeps nothing on disk. */
  logPath: string | null;
  /** The log on disk stops growing here; its tail is appended at the end, the cut marked. */
  maxLogBytes: number;
  /** What the model sees: at most this much, head and tail kept. */
  maxModelBytes: number;
  redactor: Redactor;
}

const MARKER_ROOM = 256;

/** Whether a byte of UTF-8 continues a character (10xxxxxx) rather than starting one. */
function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

/** Cuts text to at most `bytes` UTF-8 bytes, from the start or the end, at a character edge. */
function fitBytes(text: string, bytes: number, keep: "start" | "end"): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  const buf = Buffer.from(text);
  if (keep === "start") {
    let end = bytes;
    while (end > 0 && isContinuation(buf[end])) end--;
    return buf.subarray(0, end).toString("utf8");
  }
  let start = buf.length - bytes;
  while (start < buf.length && isContinuation(buf[start])) start++;
  return buf.subarray(start).toString("utf8");
}

/** Counts line breaks, for the "N lines cut" note. */
function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/**
 * Captures a stream of program output without ever holding all of it: secrets are masked as
 * it arrives, the log on disk is capped, and only a head and a tail ring are kept for the model.
 * Memory stays flat however much the program prints.
 */
export class OutputCapture {
  private readonly decoder = new StringDecoder("utf8");
  private readonly redact: StreamRedactor;
  private readonly file: WriteStream | null;
  private readonly headChars: number;
  private readonly tailChars: number;
  private head = "";
  private ring: string[] = [];
  private ringLength = 0;
  /** Characters seen after the head; the ring holds the last of them. */
  private afterHead = 0;
  private droppedLines = 0;
  private totalBytes = 0;
  private loggedBytes = 0;
  /** Characters written to the log (to avoid writing the tail twice when the log is cut). */
  private loggedChars = 0;
  private seenChars = 0;
  private logCut = false;
  private fileError: Error | null = null;

  constructor(private readonly options: CaptureOptions) {
    this.redact = options.redactor.stream();
    // Room is left for the cut marker, so that head + marker + tail stays within the bound.
    const usable = Math.max(2, options.maxModelBytes - MARKER_ROOM);
    this.headChars = Math.floor(usable / 2);
    this.tailChars = usable - this.headChars;
    this.file = options.logPath ? createWriteStream(options.logPath) : null;
    this.file?.on("error", (error) => {
      this.fileError = error;
    });
  }

  /** Takes raw bytes; resolves when the disk has caught up (backpressure). */
  write(chunk: Buffer): Promise<void> {
    this.totalBytes += chunk.length;
    return this.consume(this.redact.push(this.decoder.write(chunk)));
  }

  /** Takes text that is already decoded (the build's progress messages). */
  writeText(text: string): Promise<void> {
    this.totalBytes += Buffer.byteLength(text);
    return this.consume(this.redact.push(text));
  }

  /** A Writable that feeds this capture, honouring backpressure. */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.write(chunk).then(() => callback(), callback);
      },
    });
  }

  private consume(text: string): Promise<void> {
    if (text === "") return Promise.resolve();
    this.seenChars += text.length;
    let rest = text;
    if (this.head.length < this.headChars) {
      const take = rest.slice(0, this.headChars - this.head.length);
      this.head += take;
      rest = rest.slice(take.length);
    }
    if (rest !== "") {
      this.afterHead += rest.length;
      this.ring.push(rest);
      this.ringLength += rest.length;
      this.trimRing();
    }
    return this.log(text);
  }

  private trimRing(): void {
    while (this.ringLength > this.tailChars && this.ring.length > 0) {
      const first = this.ring[0] as string;
      const excess = this.ringLength - this.tailChars;
      if (first.length <= excess) {
        this.ring.shift();
        this.ringLength -= first.length;
        this.droppedLines += countLines(first);
      } else {
        this.ring[0] = first.slice(excess);
        this.ringLength -= excess;
        this.droppedLines += countLines(first.slice(0, excess));
      }
    }
  }

  private log(text: string): Promise<void> {
    if (!this.file || this.logCut || this.fileError) return Promise.resolve();
    let bytes = Buffer.from(text);
    const room = this.options.maxLogBytes - this.loggedBytes;
    if (bytes.length > room) {
      // Cut at a character edge, so the log stays valid UTF-8 and its tail resumes there.
      let end = Math.max(0, room);
      while (end > 0 && isContinuation(bytes[end])) end--;
      bytes = bytes.subarray(0, end);
      this.logCut = true;
      this.loggedChars += bytes.toString("utf8").length;
    } else {
      this.loggedChars += text.length;
    }
    this.loggedBytes += bytes.length;
    if (bytes.length === 0) return Promise.resolve();
    const file = this.file;
    if (file.write(bytes)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        file.off("drain", done);
        file.off("error", done);
        resolve();
      };
      file.once("drain", done);
      file.once("error", done);
    });
  }

  /** Flushes, closes the log and returns what the model is shown. */
  async finish(): Promise<BoundedText> {
    await this.consume(this.redact.push(this.decoder.end()));
    await this.consume(this.redact.flush());
    const tail = this.ring.join("");
    const cutChars = this.afterHead - tail.length;
    if (this.file) {
      if (this.logCut && !this.fileError) {
        // The end of the output held in memory: the tail ring, or all of it when nothing was cut
        // (a log cap smaller than the head would otherwise lose the end).
        const kept = cutChars <= 0 ? this.head + tail : tail;
        const keptStart = this.seenChars - kept.length;
        const unlogged = kept.slice(Math.max(0, this.loggedChars - keptStart));
        const more = this.totalBytes - this.loggedBytes;
        this.file.write(
          `\n[... azlon: this log is capped at ${formatBytes(this.options.maxLogBytes)}; ` +
            `${formatBytes(more)} more were printed; the last ${formatBytes(Buffer.byteLength(unlogged))} follow ...]\n`,
        );
        this.file.write(unlogged);
      }
      const file = this.file;
      await new Promise<void>((resolve) => file.end(resolve));
    }
    const half = Math.floor((this.options.maxModelBytes - MARKER_ROOM) / 2);
    if (
      cutChars <= 0 &&
      Buffer.byteLength(this.head) + Buffer.byteLength(tail) <= this.options.maxModelBytes
    ) {
      return { text: this.head + tail, totalBytes: this.totalBytes, truncated: false };
    }
    // Many multi-byte characters can make the kept characters more bytes than the bound.
    const head = fitBytes(this.head, half, "start");
    const end = fitBytes(tail, half, "end");
    const marker =
      `\n[... azlon cut about ${formatBytes(Math.max(0, this.totalBytes - Buffer.byteLength(head) - Buffer.byteLength(end)))} (${formatCount(this.droppedLines)} lines) ` +
      "from the middle of the output; the head and the tail are shown ...]\n";
    return { text: head + marker + end, totalBytes: this.totalBytes, truncated: true };
  }
}
