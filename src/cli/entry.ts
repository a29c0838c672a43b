import type { InterruptSignal } from "./io.js";
import { main } from "./main.js";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
let interrupt: ((signal: InterruptSignal) => void) | null = null;

// A reader that went away (`azlon run ... | head`, a closed terminal) fails the next write with
// EPIPE or EIO. Unheard, that error would kill azlon with its container still running; heard,
// it stops the run like a hang-up. The stream is destroyed by then: later writes go nowhere.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) =>
    interrupt?.(error.code === "EPIPE" ? "SIGPIPE" : "SIGHUP"),
  );
}

/**
 * The process-facing edge: wires argv, env, streams and signals into main(). No top-level
 * await: the single executable bundles this file as CommonJS, which has none.
 */
void main(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  onInterrupt: (handler) => {
    const listeners = SIGNALS.map((signal) => [signal, () => handler(signal)] as const);
    for (const [signal, listener] of listeners) process.on(signal, listener);
    interrupt = handler;
    return () => {
      for (const [signal, listener] of listeners) process.off(signal, listener);
      interrupt = null;
    };
  },
  exitNow: (exitCode) => process.exit(exitCode),
}).then((code) => {
  // Leave once both streams have flushed, whatever sockets or timers a library left open.
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
});
