import { Writable } from "node:stream";

const HEADER = 8;

/**
 * Splits Docker's multiplexed attach stream (8-byte header: stream type, 3 zero bytes, payload
 * size big-endian) and passes the payloads on in order, stdout and stderr interleaved as they
 * came. Unlike modem.demuxStream, it waits for the target, so backpressure reaches the engine.
 */
export class FrameDemuxer extends Writable {
  private buffer: Buffer = Buffer.alloc(0);

  /**
   * `split`, when given, also receives each payload with its stream (1 stdout, 2 stderr), for
   * a copy of the two streams apart (a trusted check image reads them as files).
   */
  constructor(
    private readonly target: Writable,
    private readonly split?: (stream: number, payload: Buffer) => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const payloads: Buffer[] = [];
    while (this.buffer.length >= HEADER) {
      const size = this.buffer.readUInt32BE(4);
      if (this.buffer.length < HEADER + size) break;
      const payload = this.buffer.subarray(HEADER, HEADER + size);
      this.split?.(this.buffer.readUInt8(0), payload);
      payloads.push(payload);
      this.buffer = this.buffer.subarray(HEADER + size);
    }
    if (payloads.length) this.forward(payloads, 0, callback);
    else callback();
  }

  private forward(payloads: Buffer[], index: number, callback: (error?: Error | null) => void): void {
    for (let i = index; i < payloads.length; i++) {
      const ok = this.target.write(payloads[i]);
      if (!ok) {
        this.target.once("drain", () => this.forward(payloads, i + 1, callback));
        return;
      }
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.target.end(callback);
  }
}
