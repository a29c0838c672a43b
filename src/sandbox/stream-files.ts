import { createWriteStream, type WriteStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { Redactor, StreamRedactor } from "../util/secrets.js";

/** Where a run's stdout and stderr go apart, for checks that read them as files. */
export interface StreamPaths {
  stdout: string;
  stderr: string;
}

/** One stream's copy on disk: secrets masked as it arrives, capped (the cut is silent, like a pipe's). */
class StreamFile {
  private readonly decoder = new StringDecoder("utf8");
  private readonly redact: StreamRedactor;
  private readonly file: WriteStream;
  private written = 0;

  constructor(
    path: string,
    private readonly maxBytes: number,
    redactor: Redactor,
  ) {
    this.redact = redactor.stream();
    this.file = createWriteStream(path);
    this.file.on("error", () => {});
  }

  push(text: string): void {
    const room = this.maxBytes - this.written;
    if (room <= 0 || text === "") return;
    const bytes = Buffer.from(text);
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
    this.written += part.length;
    this.file.write(part);
  }

  write(payload: Buffer): void {
    this.push(this.redact.push(this.decoder.write(payload)));
  }

  async finish(): Promise<void> {
    this.push(this.redact.push(this.decoder.end()));
    this.push(this.redact.flush());
    await new Promise<void>((resolve) => this.file.end(resolve));
  }
}

/** stdout and stderr of one container, each in its own file. */
export class StreamFiles {
  private readonly out: StreamFile;
  private readonly err: StreamFile;

  constructor(paths: StreamPaths, maxBytes: number, redactor: Redactor) {
    this.out = new StreamFile(paths.stdout, maxBytes, redactor);
    this.err = new StreamFile(paths.stderr, maxBytes, redactor);
  }

  /** For FrameDemuxer's split: stream 2 is stderr, anything else stdout. */
  readonly write = (stream: number, payload: Buffer): void => {
    (stream === 2 ? this.err : this.out).write(payload);
  };

  async finish(): Promise<void> {
    await Promise.all([this.out.finish(), this.err.finish()]);
  }
}
