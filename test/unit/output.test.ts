import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { OutputCapture } from "../../src/sandbox/output.js";
import { formatBytes, formatCount } from "../../src/util/format.js";
import { MASK, Redactor } from "../../src/util/secrets.js";
import { tempDir } from "../helpers/tmp.js";

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits bytes into random-size chunks of 1..max bytes. */
function chunks(data: Buffer, max: number, seed = 1): Buffer[] {
  const next = random(seed);
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; ) {
    const size = 1 + Math.floor(next() * max);
    out.push(data.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** ASCII lines of 32 bytes each: "line 00000001 ..................\n". */
function numberedLines(count: number): string {
  let text = "";
  for (let i = 1; i <= count; i++) text += `line ${String(i).padStart(8, "0")} ${".".repeat(17)}\n`;
  return text;
}

async function capture(
  pieces: Buffer[],
  options: Partial<ConstructorParameters<typeof OutputCapture>[0]> = {},
) {
  const out = new OutputCapture({
    logPath: null,
    maxLogBytes: 10 * 2 ** 20,
    maxModelBytes: 65_536,
    redactor: Redactor.none(),
    ...options,
  });
  for (const piece of pieces) await out.write(piece);
  return out.finish();
}

const CUT = "\n[... azlon cut about ";

describe("OutputCapture", () => {
  it("returns small output whole, not truncated", async () => {
    const result = await capture([Buffer.from("hello\n"), Buffer.from("world\n")]);
    expect(result).toEqual({ text: "hello\nworld\n", totalBytes: 12, truncated: false });
  });

  it("returns nothing for no output", async () => {
    expect(await capture([])).toEqual({ text: "", totalBytes: 0, truncated: false });
  });

  it("keeps output a little under the bound whole", async () => {
    const text = "x".repeat(60_000);
    const result = await capture(chunks(Buffer.from(text), 5000));
    expect(result.truncated).toBe(false);
    expect(result.text).toBe(text);
  });

  it("cuts 5 MB of output to the bound, keeping head and tail and marking the cut", async () => {
    const source = numberedLines((5 * 2 ** 20) / 32);
    const data = Buffer.from(source);
    const result = await capture(chunks(data, 70_000, 42));

    expect(result.truncated).toBe(true);
    expect(result.totalBytes).toBe(5 * 2 ** 20);
    expect(Buffer.byteLength(result.text)).toBeLessThanOrEqual(65_536);

    const at = result.text.indexOf(CUT);
    expect(at).toBeGreaterThan(0);
    const head = result.text.slice(0, at);
    const end = result.text.slice(result.text.indexOf("...]\n", at) + "...]\n".length);
    expect(source.startsWith(head)).toBe(true);
    expect(source.endsWith(end)).toBe(true);
    expect(head).toContain("line 00000001 ");
    expect(end).toContain("line 00163840 ");
    // Most of the bound goes to the program's output, not to the marker.
    expect(head.length + end.length).toBeGreaterThan(65_000);

    // The marker tells how much was cut, in bytes and lines.
    const cut = source.slice(head.length, source.length - end.length);
    expect(result.text).toContain(
      `${CUT}${formatBytes(cut.length)} (${formatCount(cut.split("\n").length - 1)} lines) from the middle`,
    );
  });

  it("keeps the bound in bytes for multi-byte output, without broken characters", async () => {
    for (const [char, maxModelBytes] of [
      ["é", 65_536],
      ["😀", 65_536],
      ["😀", 65_538],
      ["日", 65_537],
    ] as const) {
      const source = `${char.repeat(300_000)}\n`;
      const result = await capture(chunks(Buffer.from(source), 9999, 7), { maxModelBytes });
      expect(result.truncated).toBe(true);
      expect(Buffer.byteLength(result.text)).toBeLessThanOrEqual(maxModelBytes);
      const at = result.text.indexOf(CUT);
      const head = result.text.slice(0, at);
      const end = result.text.slice(result.text.indexOf("...]\n", at) + "...]\n".length);
      expect(head, `${char} head, bound ${maxModelBytes}`).toBe(char.repeat(head.length / char.length));
      expect(end, `${char} tail, bound ${maxModelBytes}`).toBe(
        `${char.repeat((end.length - 1) / char.length)}\n`,
      );
      expect(head.length).toBeGreaterThan(0);
    }
  });

  it("counts every byte in totalBytes, text and raw alike", async () => {
    const out = new OutputCapture({
      logPath: null,
      maxLogBytes: 1024,
      maxModelBytes: 1024,
      redactor: Redactor.none(),
    });
    await out.writeText("Step 1/2 : FROM alpine\n");
    await out.write(Buffer.from("é".repeat(5000)));
    const result = await out.finish();
    expect(result.totalBytes).toBe(23 + 10_000);
  });

  it("decodes multi-byte characters split across chunks", async () => {
    const source = "héllo wörld 😀 日本語 ✓\n".repeat(3);
    const bytes = Buffer.from(source);
    const oneByteAtATime = [...bytes].map((b) => Buffer.from([b]));
    expect((await capture(oneByteAtATime)).text).toBe(source);
    expect((await capture(chunks(bytes, 3, 9))).text).toBe(source);
  });

  it("masks secrets, also when a secret is split across chunks", async () => {
    const secret = "sk-live-0123456789abcdef";
    const source = `token is ${secret}\nagain: ${secret}!\n`;
    const data = Buffer.from(source);
    for (let split = 0; split <= data.length; split++) {
      const dir = tempDir();
      const logPath = join(dir, "output.log");
      const result = await capture([data.subarray(0, split), data.subarray(split)], {
        logPath,
        redactor: new Redactor([secret]),
      });
      const expected = `token is ${MASK}\nagain: ${MASK}!\n`;
      expect(result.text, `split at ${split}`).toBe(expected);
      expect(readFileSync(logPath, "utf8"), `log, split at ${split}`).toBe(expected);
    }
  });

  it("keeps characters whole in the log while secrets are being masked", async () => {
    // The redactor holds back a few characters; it must not split an emoji in two.
    const logPath = join(tempDir(), "output.log");
    const source = "😀 ok ✓ 日本\n".repeat(2000);
    const result = await capture(chunks(Buffer.from(source), 37, 4), {
      logPath,
      redactor: new Redactor(["some-secret-value"]),
    });
    expect(result.text).toBe(source);
    expect(readFileSync(logPath, "utf8")).toBe(source);
  });

  it("masks secrets in the head and the tail of cut output", async () => {
    const secret = "ghp_SECRETSECRETSECRET";
    const source = `${secret}\n${"filler\n".repeat(200_000)}${secret}\n`;
    const result = await capture(chunks(Buffer.from(source), 4096, 3), {
      redactor: new Redactor([secret]),
    });
    expect(result.truncated).toBe(true);
    expect(result.text).not.toContain("SECRET");
    expect(result.text.startsWith(`${MASK}\n`)).toBe(true);
    expect(result.text.endsWith(`${MASK}\n`)).toBe(true);
  });

  it("writes small output to the log file whole", async () => {
    const logPath = join(tempDir(), "output.log");
    const source = numberedLines(1000);
    await capture(chunks(Buffer.from(source), 500), { logPath });
    expect(readFileSync(logPath, "utf8")).toBe(source);
  });

  it("caps the log file: head up to maxLogBytes, a marker, then the tail, nothing twice", async () => {
    const logPath = join(tempDir(), "output.log");
    const source = numberedLines((5 * 2 ** 20) / 32);
    const maxLogBytes = 2 ** 20;
    await capture(chunks(Buffer.from(source), 70_000, 5), { logPath, maxLogBytes });

    const log = readFileSync(logPath, "utf8");
    const markerAt = log.indexOf("\n[... azlon: this log is capped at 1 MiB; ");
    expect(markerAt).toBe(maxLogBytes);
    const markerEnd = log.indexOf("follow ...]\n", markerAt) + "follow ...]\n".length;
    const head = log.slice(0, markerAt);
    const tail = log.slice(markerEnd);
    expect(head).toBe(source.slice(0, maxLogBytes));
    expect(tail.length).toBeGreaterThan(0);
    expect(source.endsWith(tail)).toBe(true);
    expect(head.length + tail.length).toBeLessThanOrEqual(source.length);
    expect(log.slice(markerAt, markerEnd)).toContain(
      `${formatBytes(source.length - maxLogBytes)} more were printed`,
    );
    expect(log.slice(markerAt, markerEnd)).toContain(`the last ${formatBytes(tail.length)} follow`);
    expect(Buffer.byteLength(log)).toBeLessThanOrEqual(maxLogBytes + (markerEnd - markerAt) + 65_536);
  });

  it("when output is just over the log cap, the log holds every byte exactly once", async () => {
    const logPath = join(tempDir(), "output.log");
    const maxLogBytes = 64 * 1024;
    const source = numberedLines(maxLogBytes / 32 + 100); // 3,200 bytes over the cap
    await capture(chunks(Buffer.from(source), 3000, 11), { logPath, maxLogBytes, maxModelBytes: 8192 });

    const log = readFileSync(logPath, "utf8");
    const markerAt = log.indexOf("\n[... azlon: this log is capped at");
    expect(markerAt).toBe(maxLogBytes);
    const markerEnd = log.indexOf("follow ...]\n", markerAt) + "follow ...]\n".length;
    expect(log.slice(0, markerAt) + log.slice(markerEnd)).toBe(source);
  });

  it("a log cap smaller than what the model is shown still ends the log with the output's end", async () => {
    const logPath = join(tempDir(), "output.log");
    const source = numberedLines(100); // 3,200 bytes, all of it in the model's head
    const result = await capture([Buffer.from(source)], {
      logPath,
      maxLogBytes: 1024,
      maxModelBytes: 65_536,
    });
    expect(result.text).toBe(source);
    const log = readFileSync(logPath, "utf8");
    const markerAt = log.indexOf("\n[... azlon: this log is capped at");
    const markerEnd = log.indexOf("follow ...]\n", markerAt) + "follow ...]\n".length;
    expect(log.slice(0, markerAt) + log.slice(markerEnd)).toBe(source);
  });

  it("keeps the log valid UTF-8 when the cap falls inside a character", async () => {
    const logPath = join(tempDir(), "output.log");
    const source = `${"é".repeat(1000)}END\n`; // 2,004 bytes; the cap falls mid-character
    await capture(chunks(Buffer.from(source), 100, 2), { logPath, maxLogBytes: 1025, maxModelBytes: 8192 });
    const log = readFileSync(logPath, "utf8");
    expect(log).not.toContain("\uFFFD");
    const markerAt = log.indexOf("\n[... azlon: this log is capped at");
    const markerEnd = log.indexOf("follow ...]\n", markerAt) + "follow ...]\n".length;
    expect(log.slice(0, markerAt) + log.slice(markerEnd)).toBe(source);
  });

  it("works as a Writable at the end of a pipeline", async () => {
    const out = new OutputCapture({
      logPath: null,
      maxLogBytes: 1024,
      maxModelBytes: 1024,
      redactor: Redactor.none(),
    });
    await pipeline(Readable.from([Buffer.from("a"), Buffer.from("b\n")]), out.writable());
    expect((await out.finish()).text).toBe("ab\n");
  });
});
