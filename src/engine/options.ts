import { randomBytes } from "node:crypto";
import { DEFAULT_BASE_URL } from "../config/defaults.js";
import type { Config } from "../config/schema.js";
import { DEFAULT_PRICES, priceFor } from "../core/cost.js";
import { UsageError } from "../core/errors.js";
import type { RunOptions } from "../core/state.js";
import { parseSize } from "../util/format.js";
import { collectSecrets, Redactor, urlQuerySecrets } from "../util/secrets.js";
import { checkOptionsFrom } from "./checks.js";
import { sourceOptionsFrom } from "./source-options.js";

export { DEFAULT_BASE_URL };

type Env = Record<string, string | undefined>;

/** The API key from the environment; OPENAI_KEY is the original's name, still accepted. */
export function apiKeyFrom(env: Env): string {
  const key = env.OPENAI_API_KEY || env.OPENAI_KEY;
  if (!key) {
    throw new UsageError(
      "no API key: OPENAI_API_KEY is not set",
      "export OPENAI_API_KEY=... (for a local server that needs none, such as Ollama, any value will do)",
    );
  }
  return key;
}

/** Masks the key, the environment's secrets, and the secrets in the base URL's query. */
export function redactorFor(env: Env, apiKey: string | null, baseUrl: string | null = null): Redactor {
  return new Redactor(
    collectSecrets(env, [...(apiKey ? [apiKey] : []), ...(baseUrl ? urlQuerySecrets(baseUrl) : [])]),
  );
}

/** A cost budget cannot be kept for a model without a price: say so before any token is spent. */
export function checkCostBudget(options: RunOptions): void {
  if (options.budgets.maxCostUsd !== null && options.price === null) {
    throw new UsageError(
      `--max-cost needs a price for model "${options.model}", and azlon's price table has none`,
      `add it to the config: prices: { "${options.model}": { input: 0.5, output: 1.5 } } (USD per million tokens), or use --max-tokens`,
    );
  }
}

export function toRunOptions(config: Config, outDir: string): RunOptions {
  return {
    model: config.model,
    baseUrl: config.baseUrl,
    maxIterations: config.maxIterations,
    limits: {
      memoryBytes: parseSize(config.memory) ?? 2 ** 30,
      cpus: config.cpus,
      pids: config.pids,
      network: config.network,
      runTimeoutMs: Math.round(config.runTimeout * 1000),
      buildTimeoutMs: Math.round(config.buildTimeout * 1000),
    },
    baseImage: config.baseImage,
    builder: config.builder,
    structuredOutput: config.structuredOutput,
    modelRetries: config.modelRetries,
    modelTimeoutMs: Math.round(config.modelTimeout * 1000),
    maxRetryWaitMs: Math.round(config.maxRetryWait * 1000),
    maxReplyTokens: config.maxReplyTokens,
    maxReplyBytes: config.maxReplyBytes,
    repairAttempts: config.repairAttempts,
    temperature: config.temperature,
    budgets: {
      maxTokens: config.maxTokens,
      maxCostUsd: config.maxCost,
      maxTimeMs: config.maxTime === null ? null : Math.round(config.maxTime * 1000),
    },
    maxOutputBytes: config.maxOutputBytes,
    maxLogBytes: config.maxLogBytes,
    maxFiles: config.maxFiles,
    maxFileBytes: config.maxFileBytes,
    maxPathLength: config.maxPathLength,
    price: priceFor(config.model, { ...DEFAULT_PRICES, ...config.prices }),
    prices: config.prices,
    prompts: config.prompts,
    out: outDir,
  };
}

/**
 * A run's options from a resolved config: limits, budgets, checks, service and verdict, each
 * checked before any token is spent (a usage error names what is wrong).
 */
export function runOptionsFrom(config: Config, cwd: string, outDir: string): RunOptions {
  const options = toRunOptions(config, outDir);
  Object.assign(options, checkOptionsFrom(config, cwd));
  checkCostBudget(options);
  // The user's project (--from) is checked last: it lists the folder.
  options.source = sourceOptionsFrom(config, cwd, outDir);
  return options;
}

/** "20261124-214800-hello-world-3f9a": sortable, readable, unique, valid in an image name. */
export function newRunId(prompt: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const slug = prompt
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 24)
    .replace(/-+$/, "");
  return [stamp, slug || "run", randomBytes(2).toString("hex")].join("-");
}

/** The tag of a run's final image. */
export function imageTagFor(runId: string): string {
  return `azlon/${runId}`;
}
