import { once } from "node:events";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FrameDemuxer } from "../../src/sandbox/demux.js";

/** One frame of Docker's attach stream: type (1 stdout, 2 stderr), 3 zero bytes, size, payload. */
function frame(type: 1 | 2, payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** A target that records what it receives; slow ones answer each write later, with a tiny buffer. */
function sink(slow = false): { target: Writable; received: Buffer[] } {
  const received: Buffer[] = [];
  const target = new Writable({
    highWaterMark: slow ? 1 : 16_384,
    write(chunk: Buffer, _encoding, callback) {
      received.push(Buffer.from(chunk));
      if (slow) setImmediate(callback);
      else callback();
    },
  });
  return { target, received };
}

async function demux(pieces: Buffer[], slow = false): Promise<Buffer[]> {
  const { target, received } = sink(slow);
  const demuxer = new FrameDemuxer(target);
  const finished = once(target, "finish");
  for (const piece of pieces) {
    if (!demuxer.write(piece)) await once(demuxer, "drain");
  }
  demuxer.end();
  await finished;
  return received;
}

const frames = [
  frame(1, "hello from stdout\n"),
  frame(2, "a warning on stderr\n"),
  frame(1, ""),
  frame(1, "héllo 😀 multi-byte\n"),
  frame(2, "x".repeat(70_000)),
  frame(1, "done\n"),
];
const stream = Buffer.concat(frames);
const expected = `hello from stdout\na warning on stderr\nhéllo 😀 multi-byte\n${"x".repeat(70_000)}done\n`;

describe("FrameDemuxer", () => {
  it("passes the payloads on in order, stdout and stderr interleaved, headers removed", async () => {
    const received = await demux([stream]);
    expect(Buffer.concat(received).toString()).toBe(expected);
  });

  it("forwards each non-empty frame's payload as it came", async () => {
    const received = await demux(frames);
    expect(received.map((b) => b.toString()).filter((s) => s !== "")).toEqual([
      "hello from stdout\n",
      "a warning on stderr\n",
      "héllo 😀 multi-byte\n",
      "x".repeat(70_000),
      "done\n",
    ]);
  });

  it("reassembles frames split at every byte position", async () => {
    const small = Buffer.concat([frame(1, "first\n"), frame(2, "second\n"), frame(1, "third\n")]);
    for (let i = 0; i <= small.length; i++) {
      const received = await demux([small.subarray(0, i), small.subarray(i)]);
      expect(Buffer.concat(received).toString(), `split at ${i}`).toBe("first\nsecond\nthird\n");
    }
  });

  it("reassembles frames fed one byte at a time", async () => {
    const small = Buffer.concat(frames.slice(0, 4));
    const received = await demux([...small].map((b) => Buffer.from([b])));
    expect(Buffer.concat(received).toString()).toBe(
      "hello from stdout\na warning on stderr\nhéllo 😀 multi-byte\n",
    );
  });

  it("reassembles frames split at random sizes", async () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 20; round++) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < stream.length; ) {
        const size = 1 + Math.floor(next() * 5000);
        pieces.push(stream.subarray(at, at + size));
        at += size;
      }
      expect(Buffer.concat(await demux(pieces)).toString()).toBe(expected);
    }
  });

  it("keeps the order when the target is slow (backpressure)", async () => {
    const many = Array.from({ length: 200 }, (_, i) => frame(i % 2 ? 2 : 1, `line ${i}\n`));
    const received = await demux([Buffer.concat(many)], true);
    const want = Array.from({ length: 200 }, (_, i) => `line ${i}\n`).join("");
    expect(Buffer.concat(received).toString()).toBe(want);
  });
});
