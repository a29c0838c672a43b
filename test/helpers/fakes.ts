import { writeFileSync } from "node:fs";
import { DEFAULTS } from "../../src/config/defaults.js";
import { AbortedError, abortCause } from "../../src/core/errors.js";
import { newRunState, type RunOptions, type RunState } from "../../src/core/state.js";
import type {
  BuildResult,
  CheckRequest,
  CheckResult,
  ChecksReport,
  ExecResult,
  GenerateRequest,
  Generation,
  JudgeFeedback,
  JudgeRequest,
  LogTarget,
  Model,
  ModelContext,
  Sandbox,
  ServiceRequest,
  Verdict,
} from "../../src/core/types.js";
import { toRunOptions } from "../../src/engine/options.js";
import { buildFailureCause } from "../../src/sandbox/build-error.js";
import { Redactor } from "../../src/util/secrets.js";
import { RunFolder } from "../../src/workspace/run-folder.js";

export type ModelStep =
  | { kind: "generate"; answer: Generation | Error | ((req: GenerateRequest) => Generation) }
  | { kind: "judge"; answer: Verdict | Error | ((req: JudgeRequest, feedback: JudgeFeedback[]) => Verdict) };

/** A Model that replays a script and records what the loop asked. */
export class ScriptedModel implements Model {
  readonly judged: Array<{ request: JudgeRequest; feedback: JudgeFeedback[] }> = [];
  /** The generate requests, in order. */
  readonly generateRequests: GenerateRequest[] = [];
  generated = 0;
  constructor(
    private readonly steps: ModelStep[],
    private readonly usage = { promptTokens: 100, completionTokens: 50, cachedTokens: 0 },
  ) {}

  private next(kind: ModelStep["kind"], ctx: ModelContext): ModelStep {
    if (ctx.signal.aborted) throw new AbortedError(abortCause(ctx.signal));
    const step = this.steps.shift();
    if (!step) throw new Error(`scripted model: no ${kind} step left`);
    if (step.kind !== kind) throw new Error(`scripted model: expected a ${step.kind} call, got ${kind}`);
    ctx.emit({
      type: "model.call",
      purpose: kind,
      iteration: ctx.iteration,
      turn: 0,
      mode: "json_schema",
      outcome: "ok",
      detail: null,
      finishReason: "stop",
      usage: this.usage,
      durationMs: 1,
      reply: null,
    });
    return step;
  }

  async generate(request: GenerateRequest, ctx: ModelContext): Promise<Generation> {
    this.generated++;
    this.generateRequests.push(request);
    const step = this.next("generate", ctx);
    if (step.kind !== "generate") throw new Error("unreachable");
    if (step.answer instanceof Error) throw step.answer;
    return typeof step.answer === "function" ? step.answer(request) : step.answer;
  }

  async judge(request: JudgeRequest, feedback: JudgeFeedback[], ctx: ModelContext): Promise<Verdict> {
    this.judged.push({ request, feedback: [...feedback] });
    const step = this.next("judge", ctx);
    if (step.kind !== "judge") throw new Error("unreachable");
    if (step.answer instanceof Error) throw step.answer;
    return typeof step.answer === "function" ? step.answer(request, feedback) : step.answer;
  }

  get remaining(): number {
    return this.steps.length;
  }
}

export interface FakeRun {
  buildOk?: boolean;
  buildLog?: string;
  exitCode?: number;
  output?: string;
  timedOut?: boolean;
  oomKilled?: boolean;
  /** Wait for the abort signal instead of finishing (a program that never ends). */
  hang?: boolean;
  /** Exit codes of the checks this round, in order (missing ones exit 0), and their output. */
  checks?: Array<{ exitCode: number; output?: string; timedOut?: boolean }>;
  /** For a service: never ready, with this problem. */
  notReady?: string;
  /** The engine fails while building, or while running the program. */
  buildError?: Error;
  runError?: Error;
}

/** A Sandbox that reports scripted results and records what it was asked to build. */
export class FakeSandbox implements Sandbox {
  readonly imageTag = "azlon/fake";
  readonly built: string[] = [];
  cleanups = 0;
  /** The engine is gone by the time of the cleanup too. */
  cleanupError: Error | null = null;
  constructor(private readonly runs: FakeRun[]) {}

  async build(contextDir: string, log: LogTarget): Promise<BuildResult> {
    this.built.push(contextDir);
    const run = this.runs[0] ?? {};
    if (run.buildError) throw run.buildError;
    const text = run.buildLog ?? "Step 1/1 : FROM busybox\n";
    writeFileSync(log.path, text);
    const ok = run.buildOk ?? true;
    if (!ok) this.runs.shift();
    return {
      ok,
      timedOut: false,
      log: { text, totalBytes: text.length, truncated: false },
      durationMs: 5,
      imageId: ok ? "sha256:fake" : null,
      cause: ok ? null : buildFailureCause(text),
    };
  }

  async run(log: LogTarget, signal: AbortSignal): Promise<ExecResult> {
    const run = this.runs.shift() ?? {};
    this.lastChecks = run.checks;
    this.lastNotReady = run.notReady;
    if (run.runError) throw run.runError;
    if (run.hang) {
      // Like the real sandbox: a signal that fired before the run began ends it at once.
      if (!signal.aborted) {
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      }
      throw new AbortedError(abortCause(signal));
    }
    const output = run.output ?? "";
    writeFileSync(log.path, output);
    return {
      exitCode: run.exitCode ?? 0,
      timedOut: run.timedOut ?? false,
      oomKilled: run.oomKilled ?? false,
      signal: null,
      output: { text: output, totalBytes: output.length, truncated: false },
      durationMs: 5,
    };
  }

  /** What runChecks and runService were asked, in order. */
  readonly checkRequests: CheckRequest[] = [];
  private lastChecks: FakeRun["checks"] = undefined;
  private lastNotReady: string | undefined = undefined;

  private checkResults(request: CheckRequest, notReady?: string): CheckResult[] {
    this.checkRequests.push(request);
    return request.commands.map((command, i) => {
      if (notReady) {
        const output = { text: "", totalBytes: 0, truncated: false };
        return {
          command,
          exitCode: null,
          timedOut: false,
          passed: false,
          problem: "not run",
          output,
          durationMs: 0,
        };
      }
      const scripted = this.lastChecks?.[i] ?? { exitCode: 0 };
      const text = scripted.output ?? `check ${i + 1} exit ${scripted.exitCode}\n`;
      writeFileSync(request.log(i).path, text);
      const passed = scripted.exitCode === 0 && !scripted.timedOut;
      return {
        command,
        exitCode: scripted.exitCode,
        timedOut: scripted.timedOut ?? false,
        passed,
        problem: passed ? null : `exit ${scripted.exitCode}`,
        output: { text, totalBytes: text.length, truncated: false },
        durationMs: 3,
      };
    });
  }

  async runChecks(request: CheckRequest): Promise<ChecksReport> {
    return { service: null, results: this.checkResults(request) };
  }

  async runService(
    request: ServiceRequest,
    log: LogTarget,
    signal: AbortSignal,
  ): Promise<{ exec: ExecResult; checks: ChecksReport }> {
    const scriptedExit = this.runs[0]?.exitCode;
    const exec = await this.run(log, signal);
    const notReady = this.lastNotReady;
    return {
      // As the real sandbox: a service azlon stopped after its checks has no exit code of its own.
      exec: notReady || scriptedExit !== undefined ? exec : { ...exec, exitCode: null },
      checks: {
        service: { ready: !notReady, problem: notReady ?? null, durationMs: 2 },
        results: this.checkResults(request.checks, notReady),
      },
    };
  }

  async cleanup(): Promise<void> {
    this.cleanups++;
    if (this.cleanupError) throw this.cleanupError;
  }
}

/** The product's defaults (as `azlon run` derives them), for a model with no price. */
export function testOptions(overrides: Partial<RunOptions> = {}): RunOptions {
  return { ...toRunOptions({ ...DEFAULTS, model: "gpt-test", maxIterations: 5 }, "/tmp"), ...overrides };
}

export function newFolder(dir: string, secrets: string[] = []): RunFolder {
  const folder = new RunFolder(dir, new Redactor(secrets));
  folder.init();
  return folder;
}

export function freshState(options: Partial<RunOptions> = {}): RunState {
  return newRunState(
    "test-run",
    { prompt: "greet", tests: "prints hello" },
    testOptions(options),
    new Date(),
  );
}

export const gen = (files: Record<string, string>, dockerfile = "FROM busybox\n"): Generation => ({
  plan: "plan",
  dockerfile,
  files: Object.entries(files).map(([path, content]) => ({ path, content })),
});

export const passed = (evidence: string[]): Verdict => ({
  passed: true,
  reason: "ok",
  evidence,
  dockerfile: null,
  files: null,
  delete: null,
});

export const notPassed = (
  reason: string,
  files: Record<string, string> | null = null,
  del: string[] | null = null,
): Verdict => ({
  passed: false,
  reason,
  evidence: [],
  dockerfile: null,
  files: files ? Object.entries(files).map(([path, content]) => ({ path, content })) : null,
  delete: del,
});
