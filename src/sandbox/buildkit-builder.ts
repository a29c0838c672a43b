import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { AbortedError, abortCause } from "../core/errors.js";
import type { BuildResult, Limits } from "../core/types.js";
import { formatDuration } from "../util/format.js";
import { packContext, readDockerfile } from "./build-context.js";
import { buildFailureCause } from "./build-error.js";
import type { BuildSpec, ImageBuilder } from "./builder.js";
import { BuildKitLog } from "./buildkit-status.js";
import { connectionLost, describeDockerError, engineAnswered } from "./docker-errors.js";
import { labelDockerfile, labelLineOf, modelLineNumbers } from "./dockerfile-labels.js";
import type { OutputCapture } from "./output.js";

interface BuildEvent {
  id?: string;
  aux?: unknown;
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * The engine's BuildKit, through its API (`version=2`, no client session: azlon pulls nothing
 * with credentials), for Dockerfiles that need it. Its progress is decoded into the plain lines
 * the classic builder prints. The engine's BuildKit does not apply the build's memory and CPU
 * limits to RUN steps (measured): the time limit is azlon's own and holds.
 */
export class BuildKitBuilder implements ImageBuilder {
  readonly kind = "buildkit";

  constructor(
    private readonly docker: Docker,
    private readonly limits: Limits,
    private readonly capture: (path: string) => OutputCapture,
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
    const progress = new BuildKitLog();
    let failed = false;
    let imageId: string | null = null;
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
      const stream = await new Promise<Readable>((resolve, reject) => {
        this.docker.modem.dial(
          {
            path: "/build?",
            method: "POST",
            file: packContext(spec.contextDir, labelled),
            options: {
              version: "2",
              t: spec.tag,
              ...(labelled === null ? { labels: spec.labels } : {}),
              rm: true,
              forcerm: true,
              // Sent for engines that apply them; this one's BuildKit does not (the README says so).
              memory: limits.memoryBytes,
              memswap: limits.memoryBytes,
              cpuperiod: 100_000,
              cpuquota: Math.round(limits.cpus * 100_000),
            },
            abortSignal: requestSignal,
            isStream: true,
            statusCodes: { 200: true, 400: "bad parameter", 500: "server error" },
          } as unknown as Parameters<Docker["modem"]["dial"]>[0],
          (error: unknown, data: unknown) => (error ? reject(error) : resolve(data as Readable)),
        );
      });
      let pending = "";
      const handle = async (line: string): Promise<void> => {
        const trimmed = line.trim();
        if (!trimmed) return;
        let event: BuildEvent;
        try {
          event = JSON.parse(trimmed) as BuildEvent;
        } catch {
          await capture.writeText(`${trimmed}\n`);
          return;
        }
        if (event.error || event.errorDetail) {
          failed = true;
          await error(event.errorDetail?.message ?? event.error ?? "");
        } else if (event.id === "moby.buildkit.trace" && typeof event.aux === "string") {
          const lines = progress.lines(event.aux);
          if (lines.length) await capture.writeText(`${lines.join("\n")}\n`);
        } else if (event.id === "moby.image.id") {
          imageId = (event.aux as { ID?: string } | undefined)?.ID ?? imageId;
        } else if (event.stream) {
          await capture.writeText(event.stream);
        }
      };
      for await (const chunk of stream) {
        pending += (chunk as Buffer).toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) await handle(line);
      }
      await handle(pending);
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
      await error(describeDockerError(failure));
    } finally {
      clearTimeout(timer);
    }
    return done(false);
  }
}
