import type { Phase } from "../core/events.js";
import type { Result } from "../engine/result.js";
import { formatCount, formatDuration } from "../util/format.js";
import { forTerminal } from "../util/terminal.js";
import { costText } from "./report.js";
import type { BatchEvent } from "./runner.js";

export interface ProgressOptions {
  stream: { write(text: string): unknown };
  /** A live table redrawn in place (a person at a terminal); otherwise plain lines (CI, a pipe). */
  live: boolean;
  /** The attempts this leg runs. */
  total: number;
  /** The terminal's width: a table line longer would wrap, and the redraw would miscount. */
  columns?: number;
  now?: () => number;
}

const PHASE: Record<Phase, string> = {
  snapshot: "copying the project",
  generate: "asking the model",
  read: "reading files",
  apply: "writing files",
  build: "building",
  run: "running",
  check: "checking",
  validate: "judging",
  deliver: "writing the patch",
};

interface Row {
  label: string;
  phase: string;
  iteration: number;
  maxIterations: number;
  tokens: number;
  costUsd: number | null;
  started: number;
}

const MARK: Record<Result["status"], string> = { passed: "✔", failed: "✖", error: "!", interrupted: "■" };

/**
 * Shows a batch as it goes, on stderr: a table of the attempts in flight (task, phase,
 * iteration, tokens, cost, time) under the lines of those that ended, with totals and an ETA;
 * or, in CI and pipes, one plain line as each attempt starts and ends.
 */
export class BatchProgress {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private done = 0;
  private passed = 0;
  private failed = 0;
  private errors = 0;
  private tokens = 0;
  private costUsd: number | null = 0;
  private doneMs = 0;
  private readonly started: number;
  private readonly now: () => number;
  private ticker: NodeJS.Timeout | null = null;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
    if (options.live) {
      this.ticker = setInterval(() => this.draw(), 1000);
      this.ticker.unref?.();
    }
  }

  private write(text: string): void {
    this.options.stream.write(text);
  }

  /** A line that stays: the live table is cleared, the line written, the table drawn again. */
  private line(text: string): void {
    this.clear();
    this.write(`${text}\n`);
    this.draw();
  }

  private clear(): void {
    if (!this.options.live || this.drawn === 0) return;
    this.write(`\u001b[${this.drawn}A\u001b[J`);
    this.drawn = 0;
  }

  private counter(): string {
    const width = String(this.options.total).length;
    return `[${String(this.done).padStart(width)}/${this.options.total}]`;
  }

  /** Totals and an ETA: the mean attempt time so far, over the attempts left, as many at once as now run. */
  footer(): string {
    const elapsed = this.now() - this.started;
    const left = this.options.total - this.done;
    const perAttempt = this.done > 0 ? this.doneMs / this.done : null;
    const parallel = Math.max(1, this.rows.size);
    const eta =
      perAttempt !== null && left > 0 ? ` · ETA ${formatDuration((perAttempt * left) / parallel)}` : "";
    return `${this.done}/${this.options.total} done · ${this.passed} passed · ${this.failed} failed · ${this.errors} error · ${this.rows.size} running · ${formatCount(this.tokens)} tokens · ${costText(this.costUsd)} · ${formatDuration(elapsed)}${eta}`;
  }

  private draw(): void {
    if (!this.options.live) return;
    this.clear();
    const lines = [...this.rows.values()].map((r) => {
      const iteration = r.iteration ? `${r.iteration}/${r.maxIterations}` : "-";
      const live = r.costUsd === null ? (r.tokens === 0 ? "-" : "unknown") : `$${r.costUsd.toFixed(4)}`;
      return `  ${r.label.padEnd(30).slice(0, 30)} ${r.phase.padEnd(16)} ${iteration.padStart(6)} ${formatCount(r.tokens).padStart(9)} tok ${live.padStart(9)} ${formatDuration(this.now() - r.started).padStart(9)}`;
    });
    lines.push(this.footer());
    const width = Math.max(20, (this.options.columns ?? 1000) - 1);
    this.write(`${lines.map((l) => l.slice(0, width)).join("\n")}\n`);
    this.drawn = lines.length;
  }

  handle(event: BatchEvent): void {
    switch (event.type) {
      case "attempt.started": {
        const label = `${event.taskId} #${event.attempt}`;
        this.rows.set(label, {
          label,
          phase: event.resumed ? "resuming" : "starting",
          iteration: 0,
          maxIterations: 0,
          tokens: 0,
          costUsd: null,
          started: this.now(),
        });
        if (this.options.live) this.draw();
        else this.line(`${this.counter()} ${label} ${event.resumed ? "resumed" : "started"}`);
        break;
      }
      case "attempt.event": {
        const row = this.rows.get(`${event.taskId} #${event.attempt}`);
        if (!row) break;
        const e = event.event;
        if (e.type === "run.started") row.maxIterations = e.maxIterations;
        if (e.type === "phase") {
          row.phase = PHASE[e.phase];
          row.iteration = e.iteration;
        }
        row.tokens = event.state.usage.promptTokens + event.state.usage.completionTokens;
        row.costUsd = event.state.costUsd;
        break;
      }
      case "attempt.finished": {
        const label = `${event.taskId} #${event.attempt}`;
        this.rows.delete(label);
        const r = event.result;
        if (r.status !== "interrupted") {
          this.done++;
          if (r.status === "passed") this.passed++;
          else if (r.status === "failed") this.failed++;
          else this.errors++;
        }
        const used = r.usage.promptTokens + r.usage.completionTokens;
        this.tokens += used;
        if (r.costUsd === null) {
          if (used > 0) this.costUsd = null;
        } else if (this.costUsd !== null) this.costUsd += r.costUsd;
        this.doneMs += r.durationMs;
        const reason =
          r.status === "passed"
            ? ""
            : ` · ${forTerminal(r.reason ?? r.stopReason)
                .replace(/\s+/g, " ")
                .slice(0, 160)}`;
        this.line(
          `${this.counter()} ${MARK[r.status]} ${label} ${r.status} after ${r.iterations} iteration${r.iterations === 1 ? "" : "s"} · ${formatDuration(r.durationMs)} · ${formatCount(used)} tokens · ${costText(r.costUsd ?? (used === 0 ? 0 : null))}${reason}`,
        );
        for (const w of event.warnings) this.line(`  ! ${label}: ${forTerminal(w).slice(0, 300)}`);
        break;
      }
      case "batch.stopping":
        this.line(`azlon: stopping the batch: ${forTerminal(event.message)}`);
        break;
      case "warning":
        this.line(`azlon: warning: ${forTerminal(event.message)}`);
        break;
    }
  }

  /** Stops redrawing; the last table is replaced by the totals line. */
  close(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.clear();
    if (!this.options.live) this.write(`${this.footer()}\n`);
  }
}
