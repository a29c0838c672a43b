import { hostname } from "node:os";
import type Docker from "dockerode";
import { writeCiOutputs } from "../ci/outputs.js";
import type { Config } from "../config/schema.js";
import { DEFAULT_PRICES, priceFor } from "../core/cost.js";
import { AbortedError, ExitCode, FatalError, UsageError } from "../core/errors.js";
import type { LoopEvent } from "../core/events.js";
import { iterationsRun, type RunOptions, type RunState } from "../core/state.js";
import { CHECKS_FILE, VERDICT_FILE, type VerdictRecord } from "../core/steps/records.js";
import type { ChecksReport } from "../core/types.js";
import type { Templates } from "../prompts/templates.js";
import { formatCount, formatDuration, parseSize } from "../util/format.js";
import { collectSecrets, Redactor } from "../util/secrets.js";
import { forTerminal, safeJson } from "../util/terminal.js";
import type { RunFolder } from "../workspace/run-folder.js";
import { checkViewOf } from "./checks.js";
import { continueCommand } from "./continue.js";
import { type CliContext, colorEnabled, type InterruptSignal, interruptExitCode, isCI } from "./io.js";
import { type RunReport, resultOf } from "./result.js";

export const DEFAULT_BASE_URL = "https://api.openai.com/v1";

/** The API key from the environment; OPENAI_KEY is the original's name, still accepted. */
export function apiKeyFrom(env: CliContext["env"]): string {
  const key = env.OPENAI_API_KEY || env.OPENAI_KEY;
  if (!key) {
    throw new UsageError(
      "no API key: OPENAI_API_KEY is not set",
      "export OPENAI_API_KEY=... (for a local server that needs none, such as Ollama, any value will do)",
    );
  }
  return key;
}

export function redactorFor(env: CliContext["env"], apiKey: string | null): Redactor {
  return new Redactor(collectSecrets(env, apiKey ? [apiKey] : []));
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
    structuredOutput: config.structuredOutput,
    modelRetries: config.modelRetries,
    modelTimeoutMs: Math.round(config.modelTimeout * 1000),
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
    prompts: config.prompts,
    out: outDir,
  };
}

/** Everything a run needs besides its state and folder; built by `run` and by `resume`. */
export interface SessionInput {
  ctx: CliContext;
  state: RunState;
  folder: RunFolder;
  apiKey: string;
  templates: Templates;
  /** A connected engine (connectDocker has pinged it). */
  docker: Docker;
  json: boolean;
  redactor: Redactor;
  /** Where to write JUnit XML at the end of the run, or null. */
  junit?: string | null;
}

const INTERRUPT_NOTICE: Record<InterruptSignal, string> = {
  SIGINT: "Ctrl-C: stopping and cleaning up (press Ctrl-C again to quit at once)",
  SIGTERM: "SIGTERM: stopping and cleaning up (send it again to quit at once)",
  SIGHUP: "SIGHUP (the terminal went away): stopping and cleaning up",
  SIGPIPE: "the output was closed (EPIPE): stopping and cleaning up",
};

/** The exit code of a finished run; an interrupted one's is 128 + the signal that stopped it. */
export function exitCodeFor(state: RunState, error: Error | null, signal: InterruptSignal | null): number {
  switch (state.status) {
    case "passed":
      return ExitCode.passed;
    case "interrupted":
      return signal ? interruptExitCode(signal) : ExitCode.interrupted;
    case "error":
      return error instanceof FatalError ? error.exitCode : ExitCode.notPassed;
    default:
      return ExitCode.notPassed;
  }
}

/** Connects to Docker, runs the loop with a reporter and Ctrl-C handling, prints the result. */
export async function executeRun(input: SessionInput): Promise<number> {
  const { ctx, state, folder, redactor } = input;
  const [{ default: OpenAI }, { OpenAIModel }, { DockerSandbox }, { runLoop }, { HumanReporter }] =
    await Promise.all([
      import("openai"),
      import("../model/openai-model.js"),
      import("../sandbox/docker-sandbox.js"),
      import("../core/loop.js"),
      import("./reporter.js"),
    ]);
  const { docker } = input;
  const options = state.options;
  const reporter = await HumanReporter.create({
    stream: ctx.stderr,
    color: colorEnabled(ctx),
    spinner: spinnerWanted(ctx),
    maxIterations: options.maxIterations,
  });

  let model: InstanceType<typeof OpenAIModel> | null = null;
  const client = new OpenAI({
    apiKey: input.apiKey,
    baseURL: options.baseUrl ?? DEFAULT_BASE_URL,
    maxRetries: options.modelRetries,
    timeout: options.modelTimeoutMs,
    fetch: OpenAIModel.journalingFetch(() => model),
  });
  model = new OpenAIModel(client, {
    model: options.model,
    baseUrl: options.baseUrl ?? DEFAULT_BASE_URL,
    structuredOutput: state.structuredOutputMode === "json" ? "json" : options.structuredOutput,
    repairAttempts: options.repairAttempts,
    maxRetries: options.modelRetries,
    timeoutMs: options.modelTimeoutMs,
    temperature: options.temperature,
    templates: input.templates,
    promptContext: { limits: options.limits, baseImage: options.baseImage },
    onModeChange: (mode) => {
      state.structuredOutputMode = mode;
    },
  });
  const warnings: string[] = [];
  const sandbox = new DockerSandbox(docker, {
    runId: state.runId,
    imageTag: imageTagFor(state.runId),
    limits: options.limits,
    maxModelBytes: options.maxOutputBytes,
    maxLogBytes: options.maxLogBytes,
    redactor,
    warn: (message) => warnings.push(message),
  });

  const controller = new AbortController();
  let interruptedBy: InterruptSignal | null = null;
  const removeHandler = ctx.onInterrupt?.((signal) => {
    if (interruptedBy === null) {
      interruptedBy = signal;
      ctx.stderr.write(`\n${INTERRUPT_NOTICE[signal]}\n`);
      controller.abort(new AbortedError("interrupted"));
    } else if (signal === "SIGINT" || signal === "SIGTERM") {
      reporter.close();
      ctx.exitNow?.(interruptExitCode(signal));
    }
    // A hang-up or a lost stream after the first interrupt (a closed terminal brings both)
    // changes nothing: the cleanup goes on.
  });

  let outcome: Awaited<ReturnType<typeof runLoop>>;
  try {
    // What a killed azlon left running goes first; a failure to look is a warning, never fatal.
    const { sweepOrphans } = await import("../sandbox/orphans.js");
    for (const orphan of await sweepOrphans(docker, (message) => warnings.push(message))) {
      ctx.stderr.write(
        `azlon: removed container ${orphan.id.slice(0, 12)} of run ${orphan.runId}, left running by an azlon process that is gone\n`,
      );
    }
    outcome = await runLoop(
      state,
      {
        model,
        sandbox,
        store: folder,
        // What is shown is masked like what is stored: in CI, stderr is a log too.
        report: (event: LoopEvent) => reporter.handle(redactor.redactDeep(event)),
        now: () => performance.now(),
        legInfo: { pid: process.pid, host: hostname() },
        checks: checkViewOf(options),
      },
      controller.signal,
    );
  } finally {
    removeHandler?.();
    reporter.close();
    folder.close();
  }
  // Messages may quote the endpoint or the model: masked, and stripped of terminal controls.
  const shown = (text: string) => forTerminal(redactor.redactMessage(text));
  for (const message of warnings) ctx.stderr.write(`azlon: warning: ${shown(message)}\n`);
  const code = exitCodeFor(outcome.state, outcome.error, interruptedBy);
  if (outcome.error instanceof FatalError) {
    ctx.stderr.write(`azlon: ${shown(outcome.error.message)}\n`);
    if (outcome.error.hint) ctx.stderr.write(`  fix: ${shown(outcome.error.hint)}\n`);
  }
  const report = runReport(folder, outcome.state, outcome.error);
  const result = redactor.redactDeep(resultOf(report));
  writeCiOutputs(
    { result, checks: redactor.redactDeep(report.checks), junitPath: input.junit ?? null, json: input.json },
    ctx,
  );
  if (input.json) {
    ctx.stdout.write(`${safeJson(result)}\n`);
    if (outcome.state.status !== "passed")
      ctx.stderr.write(`azlon: to continue: ${continueCommand(outcome.state, folder.dir)}\n`);
  } else {
    printSummary(ctx, outcome.state, folder.dir, outcome.error, redactor);
  }
  return code;
}

/** A finished run with its last verdict and the last checks that ran, from the run folder. */
export function runReport(folder: RunFolder, state: RunState, error: Error | null): RunReport {
  const last = <T>(has: (i: RunState["iterations"][number]) => boolean, name: string): T | null => {
    const round = state.iterations.filter(has).at(-1);
    if (!round) return null;
    try {
      return folder.readIterationJson<T>(round.iteration, name);
    } catch {
      return null;
    }
  };
  return {
    state,
    runDir: folder.dir,
    verdict: last<VerdictRecord>((i) => !!i.verdict, VERDICT_FILE),
    checks: last<ChecksReport>((i) => !!i.checks, CHECKS_FILE),
    error,
  };
}

/**
 * A spinner only for a person at a real terminal: not in CI, not when stderr is a pipe or a
 * file, and not on a terminal that reports no width (ora would redraw it without end).
 */
export function spinnerWanted(ctx: CliContext): boolean {
  const columns = (ctx.stderr as { columns?: number }).columns ?? 0;
  return !!ctx.stderr.isTTY && !isCI(ctx.env) && columns > 0;
}

export function imageTagFor(runId: string): string {
  return `azlon/${runId}`;
}

function printSummary(
  ctx: CliContext,
  state: RunState,
  dir: string,
  error: Error | null,
  redactor: Redactor,
): void {
  const used = state.usage.promptTokens + state.usage.completionTokens;
  const cost = state.costUsd !== null ? ` ($${state.costUsd.toFixed(4)})` : "";
  const iterations = iterationsRun(state);
  const head = {
    passed: "passed",
    failed: "did not pass",
    interrupted: "interrupted",
    error: "stopped on an error",
    running: "stopped",
  }[state.status];
  const lines = [
    `${state.status === "passed" ? "✔" : "✖"} ${head} after ${iterations} iteration${iterations === 1 ? "" : "s"} · ${formatDuration(state.elapsedMs)} · ${formatCount(used)} tokens${state.usage.cachedTokens > 0 ? ` (${formatCount(state.usage.cachedTokens)} cached)` : ""}${cost}`,
    `  reason      ${forTerminal(redactor.redactMessage(state.reason ?? ""))}`,
    `  run folder  ${dir}`,
  ];
  if (state.image) lines.push(`  image       ${state.image}   (docker run --rm ${state.image})`);
  if (state.status !== "passed") lines.push(`  continue    ${continueCommand(state, dir)}`);
  if (error && !(error instanceof FatalError) && error.stack) {
    lines.push("  this is a bug in azlon; the details are in events.jsonl");
  }
  ctx.stdout.write(`${lines.join("\n")}\n`);
}
