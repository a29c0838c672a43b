import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { EVENTS_FILE } from "../workspace/run-folder.js";
import type { RunManager } from "./manager.js";

const POLL_MS = 200;
const PING_MS = 15_000;

/**
 * Reads a run's journal (events.jsonl) line by line as it grows: whole lines only, each
 * numbered from 1, so an id names the same event in every stream.
 */
export class JournalTail {
  private offset = 0;
  private line = 0;
  private rest = Buffer.alloc(0);

  constructor(private readonly path: string) {}

  read(): Array<{ id: number; text: string }> {
    if (!existsSync(this.path)) return [];
    const fd = openSync(this.path, "r");
    let chunk: Buffer;
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return [];
      chunk = Buffer.alloc(size - this.offset);
      const n = readSync(fd, chunk, 0, chunk.length, this.offset);
      chunk = chunk.subarray(0, n);
      this.offset += n;
    } finally {
      closeSync(fd);
    }
    const data = Buffer.concat([this.rest, chunk]);
    const end = data.lastIndexOf(0x0a);
    this.rest = end < 0 ? data : data.subarray(end + 1);
    if (end < 0) return [];
    const out: Array<{ id: number; text: string }> = [];
    for (const text of data.subarray(0, end).toString("utf8").split("\n")) {
      this.line += 1;
      if (text.trim() !== "") out.push({ id: this.line, text });
    }
    return out;
  }
}

function typeOf(line: string): string {
  try {
    const type = (JSON.parse(line) as { type?: unknown }).type;
    return typeof type === "string" && /^[\w.-]+$/.test(type) ? type : "message";
  } catch {
    return "message";
  }
}

/**
 * GET /api/runs/{id}/events: the journal from the start (or after Last-Event-ID), then live,
 * then `end` once the run is neither queued nor running and every line is sent.
 */
export function eventStream(c: Context, manager: RunManager, id: string, dir: string): Response {
  const given = c.req.header("last-event-id") ?? c.req.query("lastEventId") ?? "0";
  const after = /^\d+$/.test(given) ? Number(given) : 0;
  return streamSSE(c, async (stream) => {
    let closed = false;
    stream.onAbort(() => {
      closed = true;
    });
    const tail = new JournalTail(join(dir, EVENTS_FILE));
    let pinged = Date.now();
    while (!closed) {
      // Asked before reading: a run that ends meanwhile has its last lines on disk already.
      const live = manager.isLive(id);
      for (const { id: n, text } of tail.read()) {
        if (n <= after) continue;
        await stream.writeSSE({ id: String(n), event: typeOf(text), data: text });
      }
      if (!live) {
        await stream.writeSSE({ event: "end", data: JSON.stringify({ status: manager.statusOf(id) }) });
        return;
      }
      if (Date.now() - pinged >= PING_MS) {
        await stream.write(": ping\n\n");
        pinged = Date.now();
      }
      await stream.sleep(POLL_MS);
    }
  });
}
