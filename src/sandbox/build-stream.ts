import type { Readable } from "node:stream";
import { AbortedError, abortCause } from "../core/errors.js";
import type { BuildResult, Limits } from "../core/types.js";
import { formatDuration } from "../util/format.js";
import { readDockerfile } from "./build-context.js";
import { buildFailureCause } from "./build-error.js";
import type { BuildSpec } from "./builder.js";
import { connectionLost, describeDockerError, engineAnswered } from "./docker-errors.js";
import { labelDockerfile, labelLineOf, modelLineNumbers } from "./dockerfile-labels.js";
import type { OutputCapture } from "./output.js";

/** What a builder's reading of the engine's stream has to hand. */
export interface BuildLog {
  capture: OutputCapture;
  /** An error line (the build failed), with the Dockerfile's lines numbered as the model wrote them. */
  fail(message: string): Promise<void>;
  /** The image the engine said it made. */
  imageId: string | null;
}

/**
 * The build's options either builder sends: the tag, the labels when they go as an option (else
 * they are in the Dockerfile, cached there), and the run's memory and CPU limits on RUN steps
 * (model-written code runs there too; this engine's BuildKit ignores them, docs/security.md).
 */
export function buildOptions(spec: BuildSpec, limits: Limits, labelsAsOption: boolean) {
  return {
    t: spec.tag,
    ...(labelsAsOption ? { labels: spec.labels } : {}),
    rm: true,
    forcerm: true,
    memory: limits.memoryBytes,
    memswap: limits.memoryBytes,
    cpuperiod: 100_000,
    cpuquota: Math.round(limits.cpus * 100_000),
  };
}

/** One builder's way of asking the engine, and of reading each line it answers with. */
export interface BuildProtocol {
  /**
   * Starts the build: the Dockerfile to send instead of the context's (labelled, or changed),
   * or null; and whether the labels go as the build's option (its last step) instead.
   */
  open(dockerfile: string | null, signal: AbortSignal, labelsAsOption: boolean): Promise<Readable>;
  /** One line of the engine's JSON stream. */
  line(text: string, log: BuildLog): Promise<void>;
  /** After a build that failed (or was stopped): what it left behind goes. */
  cleanUp?(): Promise<void>;
}

/**
 * A build through the engine's API, whichever builder: the run's labels in the Dockerfile, the
 * time limit, every line of the engine's stream read (a failure is an event in it, and a stream
 * that ends well can still hold one), and the three ways it can end short: Ctrl-C (thrown), the
 * time limit (a result), the engine gone (thrown) or refusing (a failed build the model can fix).
 */
export async function streamBuild(
  spec: BuildSpec,
  limits: Limits,
  capture: OutputCapture,
  protocol: BuildProtocol,
  signal: AbortSignal,
): Promise<BuildResult> {
  const started = performance.now();
  if (spec.note) await capture.writeText(`${spec.note}\n`);
  const original = spec.dockerfile ?? (await readDockerfile(spec.contextDir));
  const labelled = spec.labelsLast ? null : labelDockerfile(original, spec.labels);
  // The engine counts azlon's LABEL line: its errors are told with the model's numbers.
  const labelLine = labelLineOf(original, labelled);
  let failed = false;
  const log: BuildLog = {
    capture,
    imageId: null,
    fail: async (message) => {
      failed = true;
      await capture.writeText(`ERROR: ${modelLineNumbers(message, labelLine)}\n`);
    },
  };
  const done = async (timedOut: boolean): Promise<BuildResult> => {
    const text = await capture.finish();
    return {
      ok: !failed,
      timedOut,
      log: text,
      durationMs: Math.round(performance.now() - started),
      imageId: failed ? null : log.imageId,
      // Why it failed, in the builder's words, for the line the terminal shows.
      cause: failed && !timedOut ? buildFailureCause(text.text) : null,
    };
  };
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), limits.buildTimeoutMs);
  try {
    const stream = await protocol.open(
      labelled ?? spec.dockerfile ?? null,
      AbortSignal.any([signal, timeout.signal]),
      labelled === null,
    );
    let pending = "";
    for await (const chunk of stream) {
      pending += (chunk as Buffer).toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) await protocol.line(line.trim(), log);
    }
    if (pending.trim()) await protocol.line(pending.trim(), log);
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
    // The engine answered with an error before building (a bad Dockerfile, say): the model can
    // fix that, so it is a failed build, not a crash.
    await log.fail(describeDockerError(failure));
  } finally {
    clearTimeout(timer);
    if (failed) await protocol.cleanUp?.();
  }
  return done(false);
}
