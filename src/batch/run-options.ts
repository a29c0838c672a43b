import type { Config, ConfigInput } from "../config/schema.js";
import { FatalError, UsageError } from "../core/errors.js";
import type { RunOptions } from "../core/state.js";
import { runOptionsFrom } from "../engine/options.js";
import { type ImageMap, mapImage } from "./image-map.js";
import type { BatchTask } from "./task.js";

/**
 * Whether the engine starts a run from an existing project (`from`): a task's project (jsonl
 * "from", an azlon task's project/, a Harbor task's environment/) is the run's `from`, copied
 * into its workspace with its Dockerfile kept, and the oracle sends only its solution.
 */
export const ENGINE_STARTS_FROM = true;

/** What the engine is given for one task: its run options (the project it starts from is their source). */
export interface TaskRun {
  options: RunOptions;
}

/** The layers a task's options are made of, weakest first: config file and environment, the task, the flags. */
export interface OptionLayers {
  base: Config;
  flags: ConfigInput;
  oracle: boolean;
  images: ImageMap;
}

/** A task's config: the batch's config, the task's own options over it, the command line over both. */
export function taskConfig(task: BatchTask, layers: OptionLayers): Config {
  const config = { ...layers.base, ...task.layer, ...layers.flags } as Config;
  // The task's project is where its run starts; the batch never writes to it (no branch, no apply).
  if (ENGINE_STARTS_FROM) Object.assign(config, { from: task.from, branch: null, apply: false });
  config.baseImage = mapImage(layers.images, config.baseImage);
  config.checkImage = mapImage(layers.images, config.checkImage);
  if (layers.oracle) {
    if (config.checks.length === 0) {
      throw new UsageError(
        `${task.source}: --oracle proves a task's checks, and the task "${task.id}" has none`,
        "give the task checks (its verifier), or leave it out of --oracle",
      );
    }
    // The checks alone decide, in one round: the reference passes them or the task is broken.
    Object.assign(config, {
      verdict: "checks",
      maxIterations: 1,
      model: "oracle",
      baseUrl: null,
      maxCost: null,
    });
  }
  return config;
}

/**
 * The run options of one attempt of a task, its run folder under `attemptDir`. A task whose
 * options do not hold together is a usage error naming the task, before any run starts.
 */
export function runOptionsForTask(task: BatchTask, layers: OptionLayers, attemptDir: string): TaskRun {
  try {
    // The task's paths are absolute already: the folder named as the cwd resolves nothing.
    const options = runOptionsFrom(taskConfig(task, layers), attemptDir, attemptDir);
    return { options };
  } catch (error) {
    if (
      error instanceof FatalError &&
      !(error instanceof UsageError && error.message.startsWith(task.source))
    ) {
      throw new UsageError(`task "${task.id}" (${task.source}): ${error.message}`, error.hint);
    }
    throw error;
  }
}
