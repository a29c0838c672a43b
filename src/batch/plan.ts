import { availableParallelism, totalmem } from "node:os";
import { basename, extname, join, resolve } from "node:path";
import { coerceFlag, flagSource, resolveConfig, validateLayer } from "../config/load.js";
import type { ConfigInput, ConfigKey } from "../config/schema.js";
import { UsageError } from "../core/errors.js";
import type { RunOptions } from "../core/state.js";
import { RESUME_KEYS, type ResumeOverrides } from "../engine/runs.js";
import { type ImageMap, parseImageMap } from "./image-map.js";
import { loadTasks } from "./load.js";
import { OracleModel, oracleAnswer } from "./oracle.js";
import { ENGINE_STARTS_FROM, type OptionLayers, runOptionsForTask } from "./run-options.js";
import type { PlannedTask } from "./runner.js";
import { parseShard, type Shard, selectShard } from "./shard.js";
import type { BatchTask } from "./task.js";

/** Flags of `azlon batch` that are run options of every task (over the tasks' own). */
export const BATCH_CONFIG_FLAGS: readonly ConfigKey[] = [
  "model",
  "baseUrl",
  "maxIterations",
  "runTimeout",
  "buildTimeout",
  "memory",
  "cpus",
  "network",
  "builder",
  "modelRetries",
  "modelTimeout",
];

/** The flags of `azlon batch` and `azlon bench`, as commander hands them over. */
export interface BatchFlags {
  out?: string;
  concurrency?: string;
  attempts?: string;
  maxCost?: string;
  maxTime?: string;
  shard?: string;
  retryFailed?: boolean;
  oracle?: boolean;
  junit?: string;
  json?: boolean;
  imageMap?: string[];
  config?: string;
  trustConfig?: boolean;
  [key: string]: unknown;
}

/** A batch ready to run: every task checked, every option settled, nothing written yet. */
export interface BatchPlan {
  /** The tasks (absolute path), as batch.json records them. */
  source: string;
  /** This shard's tasks, in the order given. */
  tasks: PlannedTask[];
  /** Every task of the source (for a shard: all shards'), to say how many there were. */
  allTasks: number;
  batchDir: string;
  attempts: number;
  concurrency: number;
  shard: Shard | null;
  oracle: boolean;
  retryFailed: boolean;
  maxCostUsd: number | null;
  maxTimeMs: number | null;
  /** The model most tasks use ("oracle" under --oracle), for batch.json. */
  model: string | null;
  /** What this command line sets of what a resumed run may change (its endpoint, its limits). */
  overrides: ResumeOverrides;
  /** Each task's options with its run folder unset: what the engine must have (check images). */
  options: RunOptions[];
  images: ImageMap;
}

function wholeNumber(text: string | undefined, flag: string, min: number, max: number): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${flag} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`,
    );
  }
  return n;
}

function positive(text: string | undefined, flag: string): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} must be a number greater than 0 (got ${JSON.stringify(text)})`);
  return n;
}

/**
 * As many runs at once as the machine holds by the runs' own limits: its cores over each
 * run's --cpus, and three quarters of its memory over each run's --memory; at least one.
 */
export function defaultConcurrency(
  options: readonly RunOptions[],
  cores = availableParallelism(),
  memory = totalmem(),
): number {
  const cpus = Math.max(0.1, ...options.map((o) => o.limits.cpus));
  const bytes = Math.max(1, ...options.map((o) => o.limits.memoryBytes));
  const fit = Math.min(Math.floor(cores / cpus), Math.floor((memory * 0.75) / bytes));
  return Math.max(1, Math.min(16, fit));
}

/** Where a batch goes by default: a name from its tasks, so the same command carries it on. */
export function defaultBatchName(source: string, shard: Shard | null, oracle: boolean): string {
  const name = basename(source, extname(source)).replace(/[^A-Za-z0-9._-]+/g, "-") || "batch";
  return `${name}${shard ? `-shard-${shard.index}-of-${shard.total}` : ""}${oracle ? "-oracle" : ""}`;
}

export interface PlanInput {
  /** The tasks path as given. */
  tasks: string;
  /** Tasks read already (the shipped bench set); else read from `tasks`. */
  loaded?: BatchTask[];
  flags: BatchFlags;
  cwd: string;
  env: Record<string, string | undefined>;
  command: "batch" | "bench";
}

/** Reads and checks everything a batch needs; every mistake is a usage error before any request. */
export async function planBatch(input: PlanInput): Promise<BatchPlan> {
  const { flags, cwd, env } = input;
  const attempts = wholeNumber(flags.attempts, "--attempts", 1, 100) ?? 1;
  const concurrencyFlag = wholeNumber(flags.concurrency, "--concurrency", 1, 64);
  const maxCostUsd = positive(flags.maxCost, "--max-cost");
  const maxTime = positive(flags.maxTime, "--max-time");
  const shard = flags.shard === undefined ? null : parseShard(flags.shard);
  const images = parseImageMap(flags.imageMap ?? [], env.AZLON_IMAGE_MAP);
  const oracle = !!flags.oracle;
  const source = resolve(cwd, input.tasks);
  const all = input.loaded ?? (await loadTasks(source));
  const mine = selectShard(all, shard);

  const { config: base } = await resolveConfig({
    cwd,
    env,
    flags: {},
    configPath: flags.config ?? null,
    trustConfig: !!flags.trustConfig,
  });
  const raw: Partial<Record<ConfigKey, unknown>> = {};
  for (const key of BATCH_CONFIG_FLAGS) if (flags[key] !== undefined) raw[key] = coerceFlag(key, flags[key]);
  const layers: OptionLayers = {
    base,
    flags: validateLayer(raw, flagSource(input.command)) as ConfigInput,
    oracle,
    images,
  };
  const probeDir = join(cwd, ".azlon-batch-probe");
  const options: RunOptions[] = [];
  const tasks: PlannedTask[] = mine.map((task) => {
    // Each task's options are checked now, so a bad one stops the batch before any request.
    options.push(runOptionsForTask(task, layers, probeDir).options);
    return {
      task,
      run: (attemptDir: string) => runOptionsForTask(task, layers, attemptDir),
      model: oracle ? new OracleModel(oracleAnswer(task, images, ENGINE_STARTS_FROM)) : null,
    };
  });
  if (maxCostUsd !== null && !oracle) {
    const unpriced = options.find((o) => o.price === null);
    if (unpriced) {
      throw new UsageError(
        `--max-cost needs a price for model "${unpriced.model}", and azlon's price table has none`,
        `add it to the config: prices: { "${unpriced.model}": { input: 0.5, output: 1.5 } } (USD per million tokens)`,
      );
    }
  }
  const batchDir = resolve(cwd, flags.out ?? join("azlon-batches", defaultBatchName(source, shard, oracle)));
  return {
    source,
    tasks,
    allTasks: all.length,
    batchDir,
    attempts,
    concurrency: concurrencyFlag ?? defaultConcurrency(options),
    shard,
    oracle,
    retryFailed: !!flags.retryFailed,
    maxCostUsd,
    maxTimeMs: maxTime === null ? null : Math.round(maxTime * 1000),
    model: options[0]?.model ?? (oracle ? "oracle" : base.model),
    options,
    images,
    overrides: Object.fromEntries(
      RESUME_KEYS.flatMap((key) => (layers.flags[key] === undefined ? [] : [[key, layers.flags[key]]])),
    ) as ResumeOverrides,
  };
}
