import { availableParallelism } from "node:os";
import type Docker from "dockerode";
import { DEFAULTS } from "../config/defaults.js";
import { type AbortCause, AbortedError } from "../core/errors.js";
import type { LoopEvent } from "../core/events.js";
import { checksOf, type RunState } from "../core/state.js";
import type { Model, RuntimeFacts } from "../core/types.js";
import { clientEndpoint } from "../model/endpoint.js";
import { loadTemplates } from "../prompts/templates.js";
import { resolveDockerTarget } from "../sandbox/connection.js";
import { Gate } from "../util/gate.js";
import { currentProcess } from "../util/liveness.js";
import { maskUrlSecrets, type Redactor } from "../util/secrets.js";
import { checkViewOf, hiddenLinesOf } from "./checks.js";
import { DEFAULT_BASE_URL, imageTagFor } from "./options.js";
import { type Result, type RunReport, resultOf, runReport } from "./result.js";
import type { PreparedRun } from "./runs.js";

/** How a run ended, for every face: its record, its result object, and what went wrong. */
export interface RunOutcome {
  state: RunState;
  error: Error | null;
  report: RunReport;
  /** The --json result (masked). */
  result: Result;
  /** Problems that never fail a run (a container that could not be removed), masked. */
  warnings: string[];
}

/** A run in progress: watch its events, cancel it, await its end. */
export interface RunHandle {
  readonly runId: string;
  readonly dir: string;
  /** The run's record, kept up to date as it goes. */
  readonly state: RunState;
  /** Events as they happen (masked); returns a function that stops listening. */
  on(listener: (event: LoopEvent) => void): () => void;
  /** Stops the run: in-flight work is cut short, containers removed, run.json marked. */
  cancel(cause?: AbortCause): void;
  readonly done: Promise<RunOutcome>;
}

export interface EngineOptions {
  docker: Docker;
  apiKey: string;
  redactor: Redactor;
  /** Recorded on each leg and container, so a later azlon can tell a live run from a dead one. */
  owner?: { pid: number; host: string; start?: string | null };
  /** Whether the engine builds with BuildKit (Docker does; Podman builds with Buildah). */
  buildKit?: boolean;
  /** "Docker" or "Podman". */
  engineName?: string;
  /** Whether the engine's BuildKit reads here-documents (Docker 23+). */
  hereDocuments?: boolean;
}

/**
 * The one programmatic entry to azlon's loop: every face (`run`, `resume`, `serve`) starts,
 * watches, cancels and resumes runs through it, and none wires the model, the sandbox and the
 * run folder itself.
 */
export class Engine {
  /**
   * Runs on their way to a running program (building its image, starting its container) at once,
   * across the runs this engine drives (a batch, a server's queue): as many as the machine has
   * cores. That way is the engine's CPU work: more at once only slows each, where one run
   * through at a time starts its program sooner; the runs past it (running a program, waiting
   * for the model, checking) go on.
   */
  private readonly starts = new Gate(Math.max(1, availableParallelism()));

  private constructor(private readonly options: EngineOptions) {}

  get redactor(): Redactor {
    return this.options.redactor;
  }

  /** Connects to the Docker engine the environment names (failing in seconds when it is down). */
  static async connect(env: Record<string, string | undefined>, apiKey: string, redactor: Redactor) {
    const { connectDocker } = await import("../sandbox/docker-sandbox.js");
    const target = resolveDockerTarget({ env, home: env.HOME ?? "/" });
    const { docker, info } = await connectDocker(target);
    return new Engine({
      docker,
      apiKey,
      redactor,
      buildKit: info.buildKit,
      engineName: info.name,
      hereDocuments: info.hereDocuments,
    });
  }

  /** What a run needs of the engine before any request: the check image it names is there. */
  async prepare(options: RunState["options"]): Promise<void> {
    const image = checksOf(options).image;
    if (!image) return;
    const { ensureImage } = await import("../sandbox/ensure-image.js");
    await ensureImage(this.options.docker, image, "--check-image");
  }

  /**
   * Starts (or resumes) a prepared run; the handle reports its events and its end. A `model`
   * given answers instead of the endpoint (batch's --oracle), and no request is sent.
   */
  start(prepared: PreparedRun, using: { model?: Model } = {}): RunHandle {
    const { state, folder } = prepared;
    const listeners = new Set<(event: LoopEvent) => void>();
    const controller = new AbortController();
    const emit = (event: LoopEvent) => {
      const masked = this.options.redactor.redactDeep(event);
      for (const listener of listeners) {
        try {
          listener(masked);
        } catch {
          // A face that cannot show an event must not stop the run.
        }
      }
    };
    const done = this.execute(prepared, emit, controller.signal, using.model ?? null);
    return {
      runId: state.runId,
      dir: folder.dir,
      state,
      on(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      cancel(cause: AbortCause = "interrupted") {
        if (!controller.signal.aborted) controller.abort(new AbortedError(cause));
      },
      done,
    };
  }

  /** The model behind the run's endpoint (the OpenAI SDK, loaded only for it). */
  private async endpointModel(state: RunState, runDir: string, runtime: RuntimeFacts | null): Promise<Model> {
    const [{ default: OpenAI }, { OpenAIModel }] = await Promise.all([
      import("openai"),
      import("../model/openai-model.js"),
    ]);
    const options = state.options;
    const templates = loadTemplates(options.prompts, runDir);
    const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
    let model: InstanceType<typeof OpenAIModel> | null = null;
    // OpenAIModel retries itself: the SDK's waits cannot be cut short by Ctrl-C or --max-time.
    const client = new OpenAI({
      apiKey: this.options.apiKey,
      ...clientEndpoint(baseUrl),
      maxRetries: 0,
      timeout: options.modelTimeoutMs,
      fetch: OpenAIModel.journalingFetch(() => model),
    });
    model = new OpenAIModel(client, {
      model: options.model,
      // Named in its errors: the query's secrets masked.
      baseUrl: maskUrlSecrets(baseUrl),
      structuredOutput: state.structuredOutputMode === "json" ? "json" : options.structuredOutput,
      repairAttempts: options.repairAttempts,
      maxRetries: options.modelRetries,
      timeoutMs: options.modelTimeoutMs,
      // Runs of azlon 0.1 have none of these in run.json: today's defaults.
      maxRetryWaitMs: options.maxRetryWaitMs ?? DEFAULTS.maxRetryWait * 1000,
      maxReplyTokens: options.maxReplyTokens === undefined ? DEFAULTS.maxReplyTokens : options.maxReplyTokens,
      maxReplyBytes: options.maxReplyBytes ?? DEFAULTS.maxReplyBytes,
      temperature: options.temperature,
      templates,
      promptContext: { limits: options.limits, baseImage: options.baseImage, runtime },
      onModeChange: (mode) => {
        state.structuredOutputMode = mode;
      },
    });
    return model;
  }

  /** Drives the run; whatever happens, its folder is closed and its lock freed at the end. */
  private async execute(
    prepared: PreparedRun,
    emit: (event: LoopEvent) => void,
    signal: AbortSignal,
    given: Model | null,
  ): Promise<RunOutcome> {
    try {
      return await this.drive(prepared, emit, signal, given);
    } finally {
      prepared.folder.close();
    }
  }

  private async drive(
    prepared: PreparedRun,
    emit: (event: LoopEvent) => void,
    signal: AbortSignal,
    given: Model | null,
  ): Promise<RunOutcome> {
    const { state, folder } = prepared;
    const { redactor, docker } = this.options;
    const [{ DockerSandbox }, { runLoop }, { sweepOrphans }, { runtimeFacts }, { UserProject }] =
      await Promise.all([
        import("../sandbox/docker-sandbox.js"),
        import("../core/loop.js"),
        import("../sandbox/orphans.js"),
        import("./runtime.js"),
        import("../workspace/source.js"),
      ]);
    const options = state.options;
    const owner = this.options.owner ?? currentProcess();
    // What the base image is (its OS, language, package tools), told to the model with its name.
    const runtime = options.baseImage
      ? await runtimeFacts(docker, options.baseImage, folder.dir, { runId: state.runId, owner, signal })
      : null;
    const model = given ?? (await this.endpointModel(state, folder.dir, runtime));
    const warnings: string[] = [];
    const sandbox = new DockerSandbox(docker, {
      runId: state.runId,
      imageTag: imageTagFor(state.runId),
      limits: options.limits,
      maxModelBytes: options.maxOutputBytes,
      maxLogBytes: options.maxLogBytes,
      redactor,
      owner,
      warn: (message) => warnings.push(message),
      checkImage: checksOf(options).image,
      builder: options.builder ?? "auto",
      buildKit: this.options.buildKit ?? false,
      engineName: this.options.engineName ?? "Docker",
      hereDocuments: this.options.hereDocuments ?? true,
      startGate: this.starts,
      hiddenLines: hiddenLinesOf(options),
    });

    let outcome: Awaited<ReturnType<typeof runLoop>>;
    try {
      // What a killed azlon left running goes first; a failure to look is a warning, never fatal.
      for (const orphan of await sweepOrphans(docker, (message) => warnings.push(message))) {
        emit({
          type: "warning",
          message: `removed container ${orphan.id.slice(0, 12)} of run ${orphan.runId}, left running by an azlon process that is gone`,
        });
      }
      outcome = await runLoop(
        state,
        {
          model,
          sandbox,
          store: folder,
          report: emit,
          now: () => performance.now(),
          legInfo: owner,
          checks: checkViewOf(options),
          source: options.source
            ? new UserProject(options.source, folder.dir, folder.workspaceDir, options.out)
            : null,
        },
        signal,
      );
    } finally {
      folder.close();
    }
    const report = runReport(folder, outcome.state, outcome.error);
    return {
      state: outcome.state,
      error: outcome.error,
      report,
      result: redactor.redactDeep(resultOf(report)),
      warnings: warnings.map((w) => redactor.redactMessage(w)),
    };
  }
}
