import { resolve } from "node:path";
import type { RunState } from "../../core/state.js";
import { continueCommand } from "../../engine/continue.js";
import { resultOf, runReport } from "../../engine/result.js";
import { readRun } from "../../engine/runs.js";
import { cutEcho, oneLine, REASON_CHARS } from "../../util/echo.js";
import { currentProcess, processAlive } from "../../util/liveness.js";
import { Redactor } from "../../util/secrets.js";
import { forTerminal, safeJson } from "../../util/terminal.js";
import { costText, phaseParts, roundOutcome, tokensText } from "../../web/phases.js";
import { readRunEntry, runIsLive, shownStatus } from "../../workspace/run-list.js";
import type { CliContext } from "../io.js";
import { headLine } from "../summary.js";

export interface ShowFlags {
  json?: boolean;
}

/** Text from the run folder (the model's words among it) as one terminal line: no controls, bounded. */
const line = (text: string, max = REASON_CHARS) => cutEcho(oneLine(forTerminal(text)), max);

/** "label       value", as the summary `azlon run` ends with. */
const row = (label: string, value: string) => `  ${label.padEnd(11)} ${value}`;
const more = (value: string) => `  ${"".padEnd(11)} ${value}`;

/** Each round in one line: its outcome, then its steps (the words the page and the report use). */
function roundLines(state: RunState): string[] {
  const outcomes = state.iterations.map((s) => roundOutcome(s) || "not finished");
  const width = Math.max(0, ...outcomes.map((o) => o.length));
  const digits = String(state.iterations.at(-1)?.iteration ?? 1).length;
  return state.iterations.map((s, i) => {
    const steps = phaseParts({ ...s, usage: undefined }).map((p) => line(p, 300));
    const text = `${String(s.iteration).padStart(digits)}  ${(outcomes[i] ?? "").padEnd(width)}  ${steps.join(" · ")}`;
    return i === 0 ? row("rounds", text) : more(text);
  });
}

/** The checks of the last round that ran them, one line each. */
function checkLines(
  state: RunState,
  checks: ReturnType<typeof runReport>["checks"],
  round: number | undefined,
): string[] {
  // Checks no round got to (builds failed, or it stopped before them), named from the options.
  const configured = state.options.checks?.commands ?? [];
  if (!checks || round === undefined)
    return configured.length
      ? [row("checks", "none ran"), ...configured.map((c) => more(`- ${line(c, 200)}`))]
      : [];
  const passed = checks.results.filter((c) => c.passed).length;
  const lines = [row("checks", `round ${round}: ${passed}/${checks.results.length} passed`)];
  if (checks.service && !checks.service.ready)
    lines.push(more(`service not ready: ${line(checks.service.problem ?? "", 300)}`));
  for (const c of checks.results)
    lines.push(
      more(
        `${c.passed ? "✔" : "✖"} ${line(c.command, 200)}${c.passed ? "" : ` (${line(c.problem ?? "failed", 200)})`}`,
      ),
    );
  return lines;
}

/**
 * `azlon show <run-dir>` (and `azlon runs <id>`): one run in full, as its summary would read
 * now: status and why it stopped, each round in a line, the last checks, tokens, cost, image,
 * folder, and the command that carries it on. `--json` prints the run's --json result.
 */
export async function showCommand(dir: string, flags: ShowFlags, ctx: CliContext): Promise<number> {
  const runDir = resolve(ctx.cwd, dir);
  // The run folder was masked when written; nothing secret is read here.
  const { state, folder } = readRun(runDir, Redactor.none());
  const report = runReport(folder, state, null);
  if (flags.json) {
    ctx.stdout.write(`${safeJson(resultOf(report))}\n`);
    return 0;
  }
  const entry = readRunEntry(runDir, state.runId);
  const live = runIsLive(entry, currentProcess().host, processAlive);
  const shown = shownStatus(entry, live);
  const why =
    shown === "killed" ? "run.json says running, but no process drives it" : (state.stopReason ?? "-");
  const checksRound = state.iterations.filter((i) => i.checks).at(-1)?.iteration;
  const lines = [
    headLine(state, shown === state.status ? undefined : shown),
    row(
      "status",
      live
        ? `running: round ${state.progress.iteration}, ${state.progress.step}`
        : why === shown
          ? shown
          : `${shown} (${why})`,
    ),
    row("reason", line(state.reason ?? "-")),
    row("task", line(state.input.prompt, 200)),
    ...roundLines(state),
    ...checkLines(state, report.checks, checksRound),
    row("tokens", tokensText(state.usage)),
    row("cost", costText(state.costUsd)),
    row("model", line(state.options.model, 200)),
  ];
  if (state.image) lines.push(row("image", `${state.image}   (docker run --rm ${state.image})`));
  lines.push(row("run folder", runDir));
  if (state.status !== "passed" && !live) lines.push(row("continue", continueCommand(state, runDir)));
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
