import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import Docker from "dockerode";
import { pack } from "tar-fs";
import { AbortedError, abortCause, DockerUnavailableError } from "../core/errors.js";
import {
  type BuildResult,
  CHECKS_MOUNT,
  type CheckRequest,
  type CheckResult,
  type ChecksReport,
  type ExecResult,
  type Limits,
  type LogTarget,
  type Sandbox,
  type ServiceRequest,
} from "../core/types.js";
import { formatDuration } from "../util/format.js";
import type { Redactor } from "../util/secrets.js";
import { buildFailureCause } from "./build-error.js";
import { runChecks, runService } from "./checks.js";
import { connectionError, type DockerTarget } from "./connection.js";
import { FrameDemuxer } from "./demux.js";
import { labelDockerfile } from "./dockerfile-labels.js";
import { OutputCapture } from "./output.js";
import { currentOwner, deadlineLabel, type Owner, ownerLabels, RUN_LABEL } from "./owner.js";

export { RUN_LABEL } from "./owner.js";

export interface DockerSandboxOptions {
  runId: string;
  /** The tag every successful build gets; the last one is the run's deliverable. */
  imageTag: string;
  limits: Limits;
  maxModelBytes: number;
  maxLogBytes: number;
  redactor: Redactor;
  /** Told about cleanup problems, which never fail a run. */
  warn?: (message: string) => void;
  /** The process answerable for what is made (default: this one), labelled on it. */
  owner?: Owner;
}

/** Connects and pings, so that an engine that is down fails in seconds, naming the address. */
export async function connectDocker(
  target: DockerTarget,
  timeoutMs = 5000,
): Promise<{ docker: Docker; version: string; apiVersion: string }> {
  const docker = new Docker(target.options);
  try {
    // dockerode accepts abortSignal on these calls; its type definitions lag behind.
    const withSignal = (call: (opts: object) => Promise<unknown>) =>
      call({ abortSignal: AbortSignal.timeout(timeoutMs) });
    await withSignal((opts) =>
      (docker.ping as unknown as (o: object) => Promise<unknown>).call(docker, opts),
    );
    const version = (await withSignal((opts) =>
      (docker.version as unknown as (o: object) => Promise<unknown>).call(docker, opts),
    )) as { Version: string; ApiVersion: string };
    return { docker, version: version.Version, apiVersion: version.ApiVersion };
  } catch (error) {
    const err = error as { name?: string; code?: string; statusCode?: number };
    if (err?.name === "AbortError" || err?.name === "TimeoutError")
      throw connectionError(target, { code: "ETIMEDOUT" });
    if (err?.statusCode === 403) throw connectionError(target, { code: "EACCES" });
    throw connectionError(target, error);
  }
}

interface BuildEvent {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** A build step's resulting image, as the classic builder prints it: " ---> 3f2e1d0c9b8a". */
const STEP_IMAGE = /^\s*---> ([0-9a-f]{12,64})\s*$/m;
const SIGNALS: Record<number, string> = { 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM" };
/** The Dockerfile's name in the build context (the engine's default). */
const DOCKERFILE = "Dockerfile";
/** How long a killed container may take to be reported stopped before we go on. */
const KILL_SETTLE_MS = 10_000;
/** How often, and how far apart, a 137 exit is asked about again for the engine's OOM flag. */
const OOM_SETTLE_TRIES = 10;
const OOM_SETTLE_MS = 100;
/** How long to wait for the last of the output after the container has exited. */
const DRAIN_MS = 2000;

/** Rejects with an AbortedError when the signal fires. */
export function onAbort(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let listener: () => void = () => {};
  const promise = new Promise<never>((_resolve, reject) => {
    listener = () => reject(new AbortedError(abortCause(signal)));
    if (signal.aborted) listener();
    else signal.addEventListener("abort", listener, { once: true });
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener("abort", listener) };
}

export function sleep(ms: number): { promise: Promise<"timeout">; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** The Sandbox over a real Docker engine: labelled, limited, bounded, and cleaned up. */
export class DockerSandbox implements Sandbox {
  readonly imageTag: string;
  /** On containers and volumes: the run, and the process that owns them. */
  private readonly labels: Record<string, string>;
  /**
   * On images: the run only. They go into the build's Dockerfile after FROM, where the builder
   * caches them, and a label that named the process would make a resumed run (a new process)
   * build every step again.
   */
  private readonly imageLabels: Record<string, string>;
  /** The image this sandbox last built (the tag's), so the next build need not ask. */
  private lastImageId: string | null = null;
  /** The removal of the image before the last one, under way (it never rejects). */
  private removing: Promise<void> = Promise.resolve();

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerSandboxOptions,
  ) {
    this.imageTag = options.imageTag;
    // The owner too, so that a later azlon can tell things of a live run from those of a dead one.
    this.imageLabels = { [RUN_LABEL]: options.runId };
    this.labels = { ...this.imageLabels, ...ownerLabels(options.owner ?? currentOwner()) };
  }

  capture(path: string | null): OutputCapture {
    return new OutputCapture({
      logPath: path,
      maxLogBytes: this.options.maxLogBytes,
      maxModelBytes: this.options.maxModelBytes,
      redactor: this.options.redactor,
    });
  }

  private async imageIdOf(tag: string): Promise<string | null> {
    try {
      return (await this.docker.getImage(tag).inspect()).Id;
    } catch {
      return null;
    }
  }

  async build(contextDir: string, log: LogTarget, signal: AbortSignal): Promise<BuildResult> {
    const started = performance.now();
    const capture = this.capture(log.path);
    // The last round's removal of its predecessor finishes before this build tags anew.
    await this.removing;
    const previous = this.lastImageId ?? (await this.imageIdOf(this.imageTag));
    const labelled = labelDockerfile(await readDockerfile(contextDir), this.imageLabels);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.options.limits.buildTimeoutMs);
    const requestSignal = AbortSignal.any([signal, timeout.signal]);
    const { limits } = this.options;
    let failed = false;
    let imageId: string | null = null;
    // The image of the last step that succeeded: a failed build leaves it (and its untagged
    // parents) behind without the run's label, which the classic builder adds only at the end.
    let lastStepImage: string | null = null;
    try {
      const stream = (await this.docker.buildImage(
        packContext(contextDir, labelled) as unknown as NodeJS.ReadableStream,
        {
          t: this.imageTag,
          // In the Dockerfile when it could be edited safely (cached there), else as the option.
          ...(labelled === null ? { labels: this.imageLabels } : {}),
          rm: true,
          forcerm: true,
          // RUN steps execute model-written code too: they get the same memory and CPU limits.
          memory: limits.memoryBytes,
          memswap: limits.memoryBytes,
          cpuperiod: 100_000,
          cpuquota: Math.round(limits.cpus * 100_000),
          abortSignal: requestSignal,
        } as Docker.ImageBuildOptions,
      )) as unknown as Readable;
      // followProgress would report success even for a failed build: the failure is an
      // event in the stream, so every event is read here.
      let pending = "";
      for await (const chunk of stream) {
        pending += (chunk as Buffer).toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          const event = parseBuildLine(line);
          if (!event) continue;
          if (event.error || event.errorDetail) {
            failed = true;
            await capture.writeText(`ERROR: ${event.errorDetail?.message ?? event.error}\n`);
          } else if (event.stream) {
            const step = STEP_IMAGE.exec(event.stream);
            if (step?.[1]) lastStepImage = step[1];
            await capture.writeText(event.stream);
          } else if (event.status && !event.progress) {
            await capture.writeText(`${event.id ? `${event.id}: ` : ""}${event.status}\n`);
          }
          if (event.aux?.ID) imageId = event.aux.ID;
        }
      }
      const last = parseBuildLine(pending);
      if (last?.error || last?.errorDetail) {
        failed = true;
        await capture.writeText(`ERROR: ${last.errorDetail?.message ?? last.error}\n`);
      }
    } catch (error) {
      failed = true;
      if (signal.aborted) {
        await capture.finish();
        throw new AbortedError(abortCause(signal));
      }
      if (timeout.signal.aborted) {
        await capture.writeText(
          `\n[azlon: the build was stopped after ${formatDuration(limits.buildTimeoutMs)}, the build time limit]\n`,
        );
        return {
          ok: false,
          timedOut: true,
          log: await capture.finish(),
          durationMs: Math.round(performance.now() - started),
          imageId: null,
          cause: null,
        };
      }
      const status = (error as { statusCode?: number }).statusCode;
      if (status === undefined) {
        await capture.finish();
        throw connectionLost(error);
      }
      // The engine answered with an error before building (a bad Dockerfile, say): the
      // model can fix that, so it is a failed build, not a crash.
      await capture.writeText(`ERROR: ${describeDockerError(error)}\n`);
    } finally {
      clearTimeout(timer);
      // However the build ended short of an image, the last step's image goes.
      if (failed && lastStepImage) await this.removeUntagged(lastStepImage, { ownOnly: false });
    }
    if (!failed && !imageId) imageId = await this.imageIdOf(this.imageTag);
    if (!failed) this.lastImageId = imageId;
    // The previous image goes while the program runs: off the round's critical path, awaited
    // by the next build and by cleanup, so nothing is left behind.
    if (!failed && previous && previous !== imageId) {
      this.removing = this.removeUntagged(previous, { ownOnly: true });
    }
    const written = await capture.finish();
    return {
      ok: !failed,
      timedOut: false,
      log: written,
      durationMs: Math.round(performance.now() - started),
      imageId: failed ? null : imageId,
      cause: failed ? buildFailureCause(written.text) : null,
    };
  }

  /**
   * A container of the built image with the run's label and every limit; nothing from the host.
   * With `checksFolder`, /azlon/checks is a fresh, empty volume of the engine's (not a copy of
   * what the image holds there), so the user's checks, copied in, are all that is in it: a file
   * the model planted there (a conftest.py that skips every test) is not.
   */
  async createContainer(
    overrides: { entrypoint?: string[]; cmd?: string[]; timeoutMs?: number; checksFolder?: boolean } = {},
  ): Promise<Docker.Container> {
    const { limits } = this.options;
    return this.docker.createContainer({
      Image: this.imageTag,
      // The deadline lets a later azlon remove this container should this process die.
      Labels: { ...this.labels, ...deadlineLabel(Date.now(), overrides.timeoutMs ?? limits.runTimeoutMs) },
      Tty: false,
      OpenStdin: false,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      NetworkDisabled: limits.network === "none",
      ...(overrides.entrypoint ? { Entrypoint: overrides.entrypoint } : {}),
      ...(overrides.cmd ? { Cmd: overrides.cmd } : {}),
      HostConfig: {
        AutoRemove: false,
        Memory: limits.memoryBytes,
        MemorySwap: limits.memoryBytes,
        NanoCpus: Math.round(limits.cpus * 1e9),
        PidsLimit: limits.pids,
        NetworkMode: limits.network,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        // The output is read through attach; the engine keeps no copy of its own on disk
        // (a program that prints gigabytes would otherwise fill /var/lib/docker).
        LogConfig: { Type: "none", Config: {} },
        ...(overrides.checksFolder ? { Mounts: [this.checksVolume()] } : {}),
      },
    });
  }

  /** An anonymous volume at /azlon/checks: made empty for this container, removed with it. */
  private checksVolume(): Docker.MountSettings {
    // The type definitions ask for a source and a driver; the engine wants neither for this.
    return {
      Type: "volume",
      Target: CHECKS_MOUNT,
      VolumeOptions: { NoCopy: true, Labels: this.labels },
    } as unknown as Docker.MountSettings;
  }

  /** Removes a container azlon made; a failure is a warning, never an error. */
  async removeContainer(container: Docker.Container): Promise<void> {
    // v: the container's anonymous volumes (a checks folder) go with it.
    await container.remove({ force: true, v: true }).catch((error: unknown) => {
      if ((error as { statusCode?: number }).statusCode !== 404) {
        this.options.warn?.(
          `could not remove container ${container.id.slice(0, 12)}: ${describeDockerError(error)}`,
        );
      }
    });
  }

  async run(log: LogTarget, signal: AbortSignal): Promise<ExecResult> {
    let container: Docker.Container;
    try {
      container = await this.createContainer();
    } catch (error) {
      throw connectionLost(error);
    }
    try {
      return await this.runContainer(
        container,
        log,
        { timeoutMs: this.options.limits.runTimeoutMs, subject: "program", limit: "the run time limit" },
        signal,
      );
    } finally {
      await this.removeContainer(container);
    }
  }

  /** Runs the checks, each in a fresh container of the image (see checks.ts). */
  runChecks(request: CheckRequest, signal: AbortSignal): Promise<CheckResult[]> {
    return runChecks(this, request, signal);
  }

  runService(
    request: ServiceRequest,
    log: LogTarget,
    signal: AbortSignal,
  ): Promise<{ exec: ExecResult; checks: ChecksReport }> {
    return runService(this, request, log, signal);
  }

  /**
   * Attaches to a created container, starts it, waits for it to end (or kills it at the time
   * limit) and returns what it did. The caller removes the container.
   */
  async runContainer(
    container: Docker.Container,
    log: LogTarget,
    how: { timeoutMs: number; subject: string; limit: string; stoppedByAzlon?: () => boolean },
    signal: AbortSignal,
  ): Promise<ExecResult> {
    const { limits } = this.options;
    const { timeoutMs } = how;
    const capture = this.capture(log.path);
    const started = performance.now();
    const aborted = onAbort(signal);
    try {
      const stream = (await container.attach({
        stream: true,
        stdout: true,
        stderr: true,
      })) as unknown as Readable;
      const demux = new FrameDemuxer(capture.writable());
      const drained = new Promise<void>((resolve) => {
        demux.on("finish", resolve);
        demux.on("error", () => resolve());
        stream.on("error", () => resolve());
      });
      stream.pipe(demux);
      try {
        await Promise.race([container.start(), aborted.promise]);
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if (error instanceof AbortedError || status === undefined) throw error;
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
          `\n[azlon: the program ran out of memory: the engine killed it at the ${Math.round(limits.memoryBytes / 2 ** 20)} MiB limit]\n`,
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
    }
  }

  /**
   * Removes an untagged image with its untagged parents: an earlier iteration's image
   * (`ownOnly`: it must carry this run's label), or the last step image of a failed build,
   * which the classic builder leaves unlabelled. Never a tagged image (a base image, the
   * deliverable), nor one other images build on (the engine refuses).
   */
  private async removeUntagged(id: string, { ownOnly }: { ownOnly: boolean }): Promise<void> {
    try {
      const image = await this.docker.getImage(id).inspect();
      if (ownOnly && image.Config?.Labels?.[RUN_LABEL] !== this.options.runId) return;
      if ((image.RepoTags ?? []).some((t) => t !== "<none>:<none>")) return;
      await this.docker.getImage(image.Id).remove({ noprune: false });
    } catch {
      // Gone already, or in use by a container being removed: the final cleanup retries.
    }
  }

  async cleanup(): Promise<void> {
    await this.removing;
    const filters = JSON.stringify({ label: [`${RUN_LABEL}=${this.options.runId}`] });
    try {
      const containers = await this.docker.listContainers({ all: true, filters });
      for (const info of containers) {
        await this.docker
          .getContainer(info.Id)
          .remove({ force: true, v: true })
          .catch((error: unknown) =>
            this.options.warn?.(`could not remove container: ${describeDockerError(error)}`),
          );
      }
      const images = await this.docker.listImages({ all: true, filters });
      const keep = await this.imageIdOf(this.imageTag);
      for (const info of images) {
        if (info.Id !== keep) await this.removeUntagged(info.Id, { ownOnly: true });
      }
    } catch (error) {
      this.options.warn?.(`cleanup could not finish: ${describeDockerError(error)}`);
    }
  }
}

async function readDockerfile(contextDir: string): Promise<string> {
  try {
    return await readFile(join(contextDir, DOCKERFILE), "utf8");
  } catch {
    return ""; // the build says what is missing
  }
}

/** The build context as a tar stream; the Dockerfile replaced by its labelled copy, if any. */
function packContext(contextDir: string, dockerfile: string | null): Readable {
  if (dockerfile === null) return pack(contextDir) as unknown as Readable;
  const bytes = Buffer.from(dockerfile);
  return pack(contextDir, {
    map: (header) => (header.name === DOCKERFILE ? { ...header, size: bytes.length } : header),
    mapStream: (stream, header) => {
      if (header.name !== DOCKERFILE) return stream;
      stream.resume(); // the file on disk is not sent: its labelled copy is
      return Readable.from([bytes]) as unknown as typeof stream;
    },
  }) as unknown as Readable;
}

function parseBuildLine(line: string): BuildEvent | null {
  const trimmed = line.trim();
  if (!trimmed) return null;
  try {
    return JSON.parse(trimmed) as BuildEvent;
  } catch {
    return { stream: `${trimmed}\n` };
  }
}

export function describeDockerError(error: unknown): string {
  const err = error as { json?: { message?: string }; message?: string; reason?: string };
  const message = err?.json?.message ?? err?.message ?? String(error);
  // docker-modem's "(HTTP code 400) unexpected - <the engine's words>": the engine's words.
  const status = /^\(HTTP code \d+\)\s*/.exec(message);
  if (!status) return message.trim();
  const rest = message.slice(status[0].length);
  const word = `${err.reason ?? "unexpected"} - `;
  return (rest.startsWith(word) ? rest.slice(word.length) : rest).trim();
}

/** The engine went away (or failed) mid-run: an environment failure, exit 3. */
export function connectionLost(error: unknown): DockerUnavailableError {
  return new DockerUnavailableError(
    `the Docker engine failed: ${describeDockerError(error)}`,
    "check `docker info`; then `azlon resume` the run",
  );
}
