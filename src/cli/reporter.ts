import { Chalk, type ChalkInstance } from "chalk";
import type { Ora } from "ora";
import { assertNever, type LoopEvent, type Phase } from "../core/events.js";
import { cutEcho, oneLine } from "../util/echo.js";
import { formatBytes, formatDuration } from "../util/format.js";
import { forTerminalDeep } from "../util/terminal.js";
import {
  buildText,
  changesText,
  checksText,
  execOk,
  execText,
  reusedText,
  verdictText,
} from "../web/phases.js";
import type { OutStream } from "./io.js";

export interface ReporterOptions {
  stream: OutStream;
  color: boolean;
  /** Animated spinner (a terminal, not CI); otherwise one plain line per step. */
  spinner: boolean;
  maxIterations: number;
  now?: () => number;
}

const PHASE_TEXT: Record<Phase, string> = {
  snapshot: "copying your project",
  generate: "asking the model for a project",
  read: "reading the files the model asked for",
  deliver: "writing the patch",
  apply: "writing the files",
  build: "building the image",
  run: "running the program",
  check: "running the checks",
  validate: "asking the model to judge the output",
};

/**
 * Shows a run's progress on stderr: a spinner per phase with "iteration N/M" and the time
 * spent, or plain lines when stderr is not a terminal or CI is set.
 */
export class HumanReporter {
  private readonly c: ChalkInstance;
  private spinner: Ora | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private phaseStarted = 0;
  private phaseText = "";
  private iteration = 1;
  private maxIterations: number;
  private readonly now: () => number;

  private constructor(
    private readonly options: ReporterOptions,
    private readonly createSpinner: ((text: string) => Ora) | null,
  ) {
    this.c = new Chalk({ level: options.color ? 1 : 0 });
    this.now = options.now ?? (() => performance.now());
    this.maxIterations = options.maxIterations;
  }

  static async create(options: ReporterOptions): Promise<HumanReporter> {
    if (!options.spinner) return new HumanReporter(options, null);
    const { default: ora } = await import("ora");
    const stream = options.stream as unknown as NodeJS.WriteStream;
    return new HumanReporter(options, (text) =>
      ora({ text, stream, color: "cyan", discardStdin: false, isEnabled: true, isSilent: false }).start(),
    );
  }

  private line(text: string): void {
    this.options.stream.write(`${text}\n`);
  }

  private prefix(): string {
    return this.c.dim(`iteration ${this.iteration}/${this.maxIterations}`);
  }

  private startPhase(text: string): void {
    this.stopSpinner();
    this.phaseStarted = this.now();
    this.phaseText = text;
    if (this.createSpinner) {
      this.spinner = this.createSpinner(this.spinnerText());
      this.ticker = setInterval(() => {
        if (this.spinner) this.spinner.text = this.spinnerText();
      }, 1000);
      this.ticker.unref?.();
    } else {
      this.line(`${this.prefix()} ${text}...`);
    }
  }

  private spinnerText(): string {
    const elapsed = `${Math.floor((this.now() - this.phaseStarted) / 1000)} s`;
    return `${this.prefix()} ${this.phaseText} ${this.c.dim(elapsed)}`;
  }

  private stopSpinner(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.spinner?.stop();
    this.spinner = null;
  }

  private done(ok: boolean | "warn", text: string): void {
    this.stopSpinner();
    const mark = ok === true ? this.c.green("✔") : ok === "warn" ? this.c.yellow("!") : this.c.red("✖");
    this.line(`${mark} ${this.prefix()} ${text}`);
  }

  private warn(text: string): void {
    const spinning = this.spinner !== null;
    if (spinning) this.spinner?.clear();
    this.line(`${this.c.yellow("!")} ${text}`);
    if (spinning) this.spinner?.render();
  }

  /** Stops any spinner (on exit paths that bypass run.finished). */
  close(): void {
    this.stopSpinner();
  }

  handle(raw: LoopEvent): void {
    // Model and endpoint text is shown, never obeyed: no escape sequences reach the terminal.
    const event = forTerminalDeep(raw);
    switch (event.type) {
      case "run.started":
        this.iteration = event.iteration;
        this.maxIterations = event.maxIterations;
        this.line(
          `${this.c.bold("azlon")} ${event.resumed ? `resuming at iteration ${event.iteration}` : "run"} ${this.c.dim(event.runId)} · model ${event.model}`,
        );
        break;
      case "phase":
        this.iteration = event.iteration;
        this.startPhase(PHASE_TEXT[event.phase]);
        break;
      case "model.call":
        if (event.outcome !== "ok") {
          const what = { invalid: "unusable", refusal: "a refusal", length: "cut at the length limit" }[
            event.outcome
          ];
          this.warn(
            `the model's reply was ${what}${event.detail ? ` (${cutEcho(oneLine(event.detail))})` : ""}`,
          );
        }
        break;
      case "model.http":
        if (event.status === null || event.status >= 400 || event.error !== null) {
          this.warn(`${describeAttempt(event)}${retryText(event)}`);
        }
        break;
      case "model.fallback":
        this.warn("the endpoint does not take json_schema; using plain JSON replies from now on");
        break;
      case "changes.applied": {
        this.done(event.refused.length ? "warn" : true, changesText(event));
        for (const r of event.refused) this.warn(`refused ${JSON.stringify(r.path)}: ${oneLine(r.reason)}`);
        break;
      }
      case "build.finished":
        // The builder's cause in one line, cut for the terminal; the same words as the page's.
        this.done(
          event.ok,
          buildText({ ...event, cause: event.cause ? cutEcho(oneLine(event.cause)) : null }),
        );
        break;
      case "exec.finished":
        this.done(execOk(event), execText(event));
        break;
      case "execute.reused":
        this.iteration = event.iteration;
        this.done(true, reusedText(event.from));
        break;
      case "checks.finished": {
        const passed = event.results.filter((r) => r.passed).length;
        const ready = event.service ? event.service.ready : null;
        const problem = event.service?.problem ? cutEcho(oneLine(event.service.problem)) : null;
        this.done(
          ready !== false && passed === event.results.length,
          checksText({ passed, total: event.results.length, serviceReady: ready }, problem),
        );
        for (const r of event.results.filter((c) => !c.passed)) {
          this.warn(
            `check failed: ${oneLine(r.command).slice(0, 120)} (${cutEcho(oneLine(r.problem ?? "failed"))})`,
          );
        }
        break;
      }
      case "evidence.rejected":
        this.warn(
          event.by === "checks"
            ? "the judge claimed a pass while a check fails; asking again"
            : "the judge claimed a pass its quotes do not prove; asking again",
        );
        break;
      case "verdict": {
        this.done(event.accepted, `${verdictText(event)}: ${cutEcho(oneLine(event.reason))}`);
        break;
      }
      case "source.snapshot":
        this.done(
          true,
          `copied ${event.files} files (${formatBytes(event.bytes)})${event.commit ? ` at ${event.commit.slice(0, 12)}${event.dirty ? " with uncommitted changes" : ""}` : ""}`,
        );
        break;
      case "files.read":
        this.done(
          event.refused.length ? "warn" : true,
          `read ${event.shown.length} file${event.shown.length === 1 ? "" : "s"} for the model`,
        );
        for (const r of event.refused) this.warn(`${JSON.stringify(r.path)}: ${r.reason}`);
        break;
      case "source.delivered":
        this.done(
          event.note === null ? true : "warn",
          `patch of ${event.files.length} file${event.files.length === 1 ? "" : "s"}: ${event.patch}${event.branch ? `; branch ${event.branch}` : ""}${event.applied ? "; applied" : ""}`,
        );
        if (event.note) this.warn(event.note);
        break;
      case "warning":
        this.warn(event.message);
        break;
      case "run.finished":
        this.stopSpinner();
        break;
      default:
        assertNever(event);
    }
  }
}

type HttpEvent = Extract<LoopEvent, { type: "model.http" }>;

/** An attempt that failed, as the user should read it: unreachable is not "answered". */
function describeAttempt(event: HttpEvent): string {
  if (event.status === null) {
    return event.error?.startsWith("no answer")
      ? `the endpoint gave ${event.error}`
      : `cannot reach the endpoint: ${event.error ?? "no answer"}`;
  }
  if (event.status >= 400) return `the endpoint answered ${event.status}`;
  return `the endpoint answered ${event.status}, but ${event.error}`;
}

function retryText(event: HttpEvent): string {
  if (event.retryInMs === undefined || event.retryInMs === null) return "";
  const asked = event.askedWaitMs ?? null;
  const capped =
    asked !== null && asked > event.retryInMs
      ? ` (it asked for ${formatDuration(asked)}; maxRetryWait caps the wait)`
      : "";
  return `; retrying in ${formatDuration(event.retryInMs)}${capped}`;
}
