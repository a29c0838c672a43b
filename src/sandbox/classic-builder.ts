import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { AbortedError, abortCause } from "../core/errors.js";
import type { BuildResult, Limits } from "../core/types.js";
import { formatDuration } from "../util/format.js";
import { packContext, readDockerfile } from "./build-context.js";
import { buildFailureCause } from "./build-error.js";
import type { BuildSpec, ImageBuilder } from "./builder.js";
import { connectionLost, describeDockerError, engineAnswered } from "./docker-errors.js";
import { labelDockerfile, labelLineOf, modelLineNumbers } from "./dockerfile-labels.js";
import type { OutputCapture } from "./output.js";

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

function parseBuildLine(line: string): BuildEvent | null {
  const trimmed = line.trim();
  if (!trimmed) return null;
  try {
    return JSON.parse(trimmed) as BuildEvent;
  } catch {
    return { stream: `${trimmed}\n` };
  }
}

/**
 * The engine's classic builder: RUN steps get the run's memory and CPU limits (it enforces
 * them; BuildKit through the API does not), and the log is the engine's JSON stream.
 */
export class ClassicBuilder implements ImageBuilder {
  readonly kind = "classic";

  constructor(
    private readonly docker: Docker,
    private readonly limits: Limits,
    private readonly capture: (path: string) => OutputCapture,
    /** Removes the image a failed build's last step left (unlabelled, untagged). */
    private readonly removeLeftover: (imageId: string) => Promise<void>,
  ) {}

  async build(spec: BuildSpec, signal: AbortSignal): Promise<BuildResult> {
    const { limits } = this;
    const started = performance.now();
    const capture = this.capture(spec.log.path);
    if (spec.note) await capture.writeText(`${spec.note}\n`);
    const original = await readDockerfile(spec.contextDir);
    const labelled = spec.labelsLast ? null : labelDockerfile(original, spec.labels);
    // The engine counts azlon's LABEL line: its errors are told with the model's numbers.
    const labelLine = labelLineOf(original, labelled);
    const error = (message: string) => capture.writeText(`ERROR: ${modelLineNumbers(message, labelLine)}\n`);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), limits.buildTimeoutMs);
    const requestSignal = AbortSignal.any([signal, timeout.signal]);
    let failed = false;
    let imageId: string | null = null;
    // The image of the last step that succeeded: a failed build leaves it (and its untagged
    // parents) behind without the run's label, which the classic builder adds only at the end.
    let lastStepImage: string | null = null;
    const done = async (timedOut: boolean): Promise<BuildResult> => {
      const log = await capture.finish();
      return {
        ok: !failed,
        timedOut,
        log,
        durationMs: Math.round(performance.now() - started),
        imageId: failed ? null : imageId,
        // Why it failed, in the builder's words, for the line the terminal shows.
        cause: failed && !timedOut ? buildFailureCause(log.text) : null,
      };
    };
    try {
      const stream = (await this.docker.buildImage(
        packContext(spec.contextDir, labelled) as unknown as NodeJS.ReadableStream,
        {
          t: spec.tag,
          // In the Dockerfile when it could be edited safely (cached there), else as the option.
          ...(labelled === null ? { labels: spec.labels } : {}),
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
      const handle = async (event: BuildEvent | null): Promise<void> => {
        if (!event) return;
        if (event.error || event.errorDetail) {
          failed = true;
          await error(event.errorDetail?.message ?? event.error ?? "");
        } else if (event.stream) {
          const step = STEP_IMAGE.exec(event.stream);
          if (step?.[1]) lastStepImage = step[1];
          await capture.writeText(event.stream);
        } else if (event.status && !event.progress) {
          await capture.writeText(`${event.id ? `${event.id}: ` : ""}${event.status}\n`);
        }
        if (event.aux?.ID) imageId = event.aux.ID;
      };
      for await (const chunk of stream) {
        pending += (chunk as Buffer).toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) await handle(parseBuildLine(line));
      }
      await handle(parseBuildLine(pending));
    } catch (failure) {
      failed = true;
      if (signal.aborted) {
        await capture.finish();
        throw new AbortedError(abortCause(signal));
      }
      if (timeout.signal.aborted) {
        await capture.writeText(
          `\n[azlon: the build was stopped after ${formatDuration(limits.buildTimeoutMs)}, the build time limit]\n`,
        );
        return done(true);
      }
      if (!engineAnswered(failure)) {
        await capture.finish();
        throw connectionLost(failure);
      }
      // The engine answered with an error before building (a bad Dockerfile, say): the
      // model can fix that, so it is a failed build, not a crash.
      await error(describeDockerError(failure));
    } finally {
      clearTimeout(timer);
      // However the build ended short of an image, the last step's image goes.
      if (failed && lastStepImage) await this.removeLeftover(lastStepImage);
    }
    return done(false);
  }
}
