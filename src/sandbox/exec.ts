import type { Readable } from "node:stream";
import type Docker from "dockerode";
import type { LogTarget } from "../core/types.js";
import { onAbort, sleep } from "../util/abort.js";
import { formatDuration } from "../util/format.js";
import type { Redactor } from "../util/secrets.js";
import type { ContainerRunner } from "./container.js";
import { FrameDemuxer } from "./demux.js";
import type { BesideResult } from "./service.js";

/** The shell azlon runs checks with: by its path, so a PATH the build set cannot name another. */
export const CHECK_SHELL = "/bin/sh";
/** How often, and how many times, a finished exec is asked for its exit code. */
const EXIT_POLLS = 20;
const EXIT_POLL_MS = 50;

/** Runs a command inside a running container and collects its exit code and bounded output. */
export async function execIn(
  runner: ContainerRunner,
  container: Docker.Container,
  command: string,
  log: LogTarget | null,
  timeoutMs: number,
  signal: AbortSignal,
  redactor?: Redactor,
): Promise<BesideResult> {
  const started = performance.now();
  const capture = runner.capture(log?.path ?? null, redactor);
  const exec = await container.exec({
    Cmd: [CHECK_SHELL, "-c", command],
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: false,
    Tty: false,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Readable;
  const demux = new FrameDemuxer(capture.writable());
  const ended = new Promise<void>((resolve) => {
    demux.on("finish", resolve);
    demux.on("error", () => resolve());
    stream.on("error", () => resolve());
    stream.on("close", () => resolve());
  });
  stream.pipe(demux);
  const aborted = onAbort(signal);
  const deadline = sleep(timeoutMs);
  try {
    const first = await Promise.race([ended.then(() => "ended" as const), deadline.promise, aborted.promise]);
    const timedOut = first === "timeout";
    stream.unpipe(demux);
    stream.destroy();
    // The process may go on after a time-out (the engine cannot kill an exec); the container
    // is killed and removed when the service stops.
    let exitCode: number | null = null;
    if (!timedOut) {
      for (let i = 0; i < EXIT_POLLS; i++) {
        const info = await exec.inspect();
        if (!info.Running) {
          exitCode = info.ExitCode ?? null;
          break;
        }
        await sleep(EXIT_POLL_MS).promise;
      }
    } else {
      await capture.writeText(
        `\n[azlon: the check was still running after ${formatDuration(timeoutMs)}, the check time limit, and was abandoned]\n`,
      );
    }
    return {
      exitCode,
      timedOut,
      output: await capture.finish(),
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    deadline.cancel();
    aborted.dispose();
  }
}
