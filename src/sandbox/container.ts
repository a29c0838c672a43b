import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { AbortedError } from "../core/errors.js";
import type { ExecResult, Limits, LogTarget } from "../core/types.js";
import { onAbort, sleep } from "../util/abort.js";
import { formatDuration } from "../util/format.js";
import type { Redactor } from "../util/secrets.js";
import { FrameDemuxer } from "./demux.js";
import { connectionLost, describeDockerError, engineAnswered } from "./docker-errors.js";
import { OutputCapture } from "./output.js";
import { deadlineLabel } from "./owner.js";
import { StreamFiles, type StreamPaths } from "./stream-files.js";

const SIGNALS: Record<number, string> = { 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM" };
/** How long a killed container may take to be reported stopped before we go on. */
const KILL_SETTLE_MS = 10_000;
/** How often, and how far apart, a 137 exit is asked about again for the engine's OOM flag. */
const OOM_SETTLE_TRIES = 10;
const OOM_SETTLE_MS = 100;
/** How long to wait for the last of the output after the container has exited. */
const DRAIN_MS = 2000;

export interface ContainerRunnerOptions {
  limits: Limits;
  /** On every container and volume: the run, and the process that owns them. */
  labels: Record<string, string>;
  maxModelBytes: number;
  maxLogBytes: number;
  redactor: Redactor;
  /** Told about removal problems, which never fail a run. */
  warn?: (message: string) => void;
  /** Told when a container's start is over (it started, could not, or the run stopped). */
  started?: () => void;
}

/** What a container is made of beyond the run's limits and labels. */
export interface ContainerSpec {
  image: string;
  entrypoint?: string[];
  cmd?: string[];
  /** How long it may run; its deadline label lets a later azlon remove it should this one die. */
  timeoutMs?: number;
  mounts?: Docker.MountSettings[];
  /** Another container whose network namespace this one joins (a check beside a service). */
  joinNetworkOf?: string;
}

/** How a container's run is described and bounded. */
export interface RunHow {
  timeoutMs: number;
  subject: string;
  limit: string;
  stoppedByAzlon?: () => boolean;
  /** stdout and stderr apart, each in its own file, besides the merged log. */
  streams?: StreamPaths;
}

/** Creates, runs and removes containers with the run's limits and labels; nothing from the host. */
export class ContainerRunner {
  constructor(
    private readonly docker: Docker,
    readonly options: ContainerRunnerOptions,
  ) {}

  capture(path: string | null, redactor: Redactor = this.options.redactor): OutputCapture {
    return new OutputCapture({
      logPath: path,
      maxLogBytes: this.options.maxLogBytes,
      maxModelBytes: this.options.maxModelBytes,
      redactor,
    });
  }

  /** A container with every limit and the run's labels; the host's sockets and files never go in. */
  async create(spec: ContainerSpec): Promise<Docker.Container> {
    const { limits, labels } = this.options;
    const network = spec.joinNetworkOf ? `container:${spec.joinNetworkOf}` : limits.network;
    return this.docker.createContainer({
      Image: spec.image,
      Labels: { ...labels, ...deadlineLabel(Date.now(), spec.timeoutMs ?? limits.runTimeoutMs) },
      Tty: false,
      OpenStdin: false,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      NetworkDisabled: !spec.joinNetworkOf && limits.network === "none",
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      HostConfig: {
        AutoRemove: false,
        Memory: limits.memoryBytes,
        MemorySwap: limits.memoryBytes,
        NanoCpus: Math.round(limits.cpus * 1e9),
        PidsLimit: limits.pids,
        NetworkMode: network,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        // The output is read through attach; the engine keeps no copy of its own on disk
        // (a program that prints gigabytes would otherwise fill /var/lib/docker).
        LogConfig: { Type: "none", Config: {} },
        ...(spec.mounts?.length ? { Mounts: spec.mounts } : {}),
      },
    });
  }

  /** Removes a container azlon made; a failure is a warning, never an error. */
  async remove(container: Docker.Container): Promise<void> {
    // v: the container's anonymous volumes (a checks folder) go with it.
    await container.remove({ force: true, v: true }).catch((error: unknown) => {
      if ((error as { statusCode?: number }).statusCode !== 404) {
        this.options.warn?.(
          `could not remove container ${container.id.slice(0, 12)}: ${describeDockerError(error)}`,
        );
      }
    });
  }

  /**
   * Attaches to a created container, starts it, waits for it to end (or kills it at the time
   * limit) and returns what it did. The caller removes the container.
   */
  async run(
    container: Docker.Container,
    log: LogTarget | null,
    how: RunHow,
    signal: AbortSignal,
    redactor: Redactor = this.options.redactor,
  ): Promise<ExecResult> {
    const { limits } = this.options;
    const { timeoutMs } = how;
    const capture = this.capture(log?.path ?? null, redactor);
    const streams = how.streams
      ? new StreamFiles(how.streams, this.options.maxLogBytes, this.options.redactor)
      : null;
    const started = performance.now();
    const aborted = onAbort(signal);
    try {
      const stream = (await container.attach({
        stream: true,
        stdout: true,
        stderr: true,
      })) as unknown as Readable;
      const demux = new FrameDemuxer(capture.writable(), streams?.write);
      const drained = new Promise<void>((resolve) => {
        demux.on("finish", resolve);
        demux.on("error", () => resolve());
        stream.on("error", () => resolve());
      });
      stream.pipe(demux);
      try {
        try {
          await Promise.race([container.start(), aborted.promise]);
        } finally {
          this.options.started?.();
        }
      } catch (error) {
        if (error instanceof AbortedError || !engineAnswered(error)) throw error;
        // The engine could not start the entrypoint (not found, not executable): the model
        // can fix that, so it is the program's result, as `docker run` reports it.
        stream.destroy();
        await capture.writeText(`ERROR: the container could not start: ${describeDockerError(error)}\n`);
        return {
          exitCode: 127,
          timedOut: false,
          oomKilled: false,
          signal: null,
          output: await capture.finish(),
          durationMs: Math.round(performance.now() - started),
        };
      }

      // Asked after the start, with the default condition ("not-running"): it answers at once
      // for a program that has exited already, so a fast exit cannot slip past it.
      const waited = container.wait();
      waited.catch(() => {});
      const deadline = sleep(timeoutMs);
      const first = await Promise.race([
        waited.then(() => "exited" as const),
        deadline.promise,
        aborted.promise,
      ]);
      deadline.cancel();
      const timedOut = first === "timeout";
      if (timedOut) {
        await container.kill().catch(() => {});
        const settle = sleep(KILL_SETTLE_MS);
        await Promise.race([container.wait().catch(() => {}), settle.promise, aborted.promise]);
        settle.cancel();
      }
      const drainTimer = sleep(DRAIN_MS);
      await Promise.race([drained, drainTimer.promise]);
      drainTimer.cancel();
      stream.unpipe(demux);
      stream.destroy();
      if (timedOut) {
        await capture.writeText(
          `\n[azlon: the ${how.subject} was still running after ${formatDuration(timeoutMs)}, ${how.limit}, and was killed]\n`,
        );
      }
      let state = (await container.inspect()).State;
      // The engine handles a container's exit and its out-of-memory event apart, in either
      // order: a kill (137) not of azlon's doing is asked about again before it is named.
      for (let i = 0; i < OOM_SETTLE_TRIES && state.ExitCode === 137 && !state.OOMKilled && !timedOut; i++) {
        if (how.stoppedByAzlon?.()) break;
        await sleep(OOM_SETTLE_MS).promise;
        state = (await container.inspect()).State;
      }
      const exitCode = typeof state.ExitCode === "number" ? state.ExitCode : null;
      const oomKilled = !!state.OOMKilled;
      if (oomKilled && !timedOut) {
        await capture.writeText(
          `\n[azlon: the ${how.subject} ran out of memory: the engine killed it at the ${Math.round(limits.memoryBytes / 2 ** 20)} MiB limit]\n`,
        );
      }
      // A service azlon stopped after its checks was not killed by anything of its own doing.
      const stopped = how.stoppedByAzlon?.() ?? false;
      const killedBy =
        !stopped && !timedOut && !oomKilled && exitCode !== null && exitCode > 128
          ? SIGNALS[exitCode - 128]
          : null;
      if (killedBy) await capture.writeText(`\n[azlon: the ${how.subject} was killed by ${killedBy}]\n`);
      if (stopped) await capture.writeText(`\n[azlon: the ${how.subject} was stopped after its checks]\n`);
      return {
        exitCode,
        timedOut,
        oomKilled,
        signal: timedOut ? "SIGKILL" : (killedBy ?? null),
        output: await capture.finish(),
        durationMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      await capture.finish().catch(() => {});
      if (error instanceof AbortedError) throw error;
      throw connectionLost(error);
    } finally {
      aborted.dispose();
      await streams?.finish().catch(() => {});
    }
  }
}
