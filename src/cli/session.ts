import { resolve } from "node:path";
import { writeCiOutputs } from "../ci/outputs.js";
import { ExitCode, FatalError } from "../core/errors.js";
import type { RunState } from "../core/state.js";
import type { Engine, RunOutcome } from "../engine/engine.js";
import type { PreparedRun } from "../engine/runs.js";
import { oneLine } from "../util/echo.js";
import type { Redactor } from "../util/secrets.js";
import { forTerminal, safeJson } from "../util/terminal.js";
import { costText } from "../web/phases.js";
import { continueCommand } from "./continue.js";
import { type CliContext, colorEnabled, type InterruptSignal, interruptExitCode, isCI } from "./io.js";
import { headLine } from "./summary.js";

/** How the terminal face shows a run: one JSON object or a summary, and CI's files. */
export interface SessionInput {
  ctx: CliContext;
  engine: Engine;
  prepared: PreparedRun;
  /** --json (one result object on stdout) and --junit <file> (relative to the cwd). */
  flags: { json?: unknown; junit?: unknown };
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

/** Runs a prepared run through the engine with a reporter and signal handling; prints the result. */
export async function executeRun(input: SessionInput): Promise<number> {
  const { ctx, engine, prepared } = input;
  const json = !!input.flags.json;
  const junit = typeof input.flags.junit === "string" ? resolve(ctx.cwd, input.flags.junit) : null;
  const { redactor } = engine;
  const { HumanReporter } = await import("./reporter.js");
  const reporter = await HumanReporter.create({
    stream: ctx.stderr,
    color: colorEnabled(ctx),
    spinner: spinnerWanted(ctx),
    maxIterations: prepared.state.options.maxIterations,
  });
  const handle = engine.start(prepared);
  const stopListening = handle.on((event) => reporter.handle(event));
  let interruptedBy: InterruptSignal | null = null;
  const removeHandler = ctx.onInterrupt?.((signal) => {
    if (interruptedBy === null) {
      interruptedBy = signal;
      ctx.stderr.write(`\n${INTERRUPT_NOTICE[signal]}\n`);
      handle.cancel("interrupted");
    } else if (signal === "SIGINT" || signal === "SIGTERM") {
      reporter.close();
      ctx.exitNow?.(interruptExitCode(signal));
    }
    // A hang-up or a lost stream after the first interrupt (a closed terminal brings both)
    // changes nothing: the cleanup goes on.
  });
  let outcome: RunOutcome;
  try {
    outcome = await handle.done;
  } finally {
    stopListening();
    removeHandler?.();
    reporter.close();
  }
  // Messages may quote the endpoint or the model: masked, and stripped of terminal controls.
  const shown = (text: string) => forTerminal(redactor.redactMessage(text));
  for (const message of outcome.warnings) ctx.stderr.write(`azlon: warning: ${shown(message)}\n`);
  const code = exitCodeFor(outcome.state, outcome.error, interruptedBy);
  if (outcome.error instanceof FatalError) {
    ctx.stderr.write(`azlon: ${shown(outcome.error.message)}\n`);
    if (outcome.error.hint) ctx.stderr.write(`  fix: ${shown(outcome.error.hint)}\n`);
  }
  const { result } = outcome;
  writeCiOutputs(
    {
      result,
      checks: redactor.redactDeep(outcome.report.checks),
      junitPath: junit,
      json,
    },
    ctx,
  );
  const dir = prepared.folder.dir;
  if (json) {
    ctx.stdout.write(`${safeJson(result)}\n`);
    if (outcome.state.status !== "passed")
      ctx.stderr.write(`azlon: to continue: ${continueCommand(outcome.state, dir)}\n`);
  } else {
    printSummary(ctx, outcome.state, dir, outcome.error, redactor);
  }
  return code;
}

/**
 * A spinner only for a person at a real terminal: not in CI, not when stderr is a pipe or a
 * file, and not on a terminal that reports no width (ora would redraw it without end).
 */
export function spinnerWanted(ctx: CliContext): boolean {
  const columns = (ctx.stderr as { columns?: number }).columns ?? 0;
  return !!ctx.stderr.isTTY && !isCI(ctx.env) && columns > 0;
}

function printSummary(
  ctx: CliContext,
  state: RunState,
  dir: string,
  error: Error | null,
  redactor: Redactor,
): void {
  const lines = [
    headLine(state),
    // The judge's prose on one line: a line of its own could be anything, a CI command too.
    `  reason      ${oneLine(forTerminal(redactor.redactMessage(state.reason ?? "")))}`,
    `  cost        ${costText(state.costUsd)}`,
    `  run folder  ${dir}`,
  ];
  if (state.image) lines.push(`  image       ${state.image}   (docker run --rm ${state.image})`);
  const delivery = state.delivery;
  if (delivery) {
    const n = delivery.files.length;
    lines.push(`  patch       ${delivery.patch}   (${n} file${n === 1 ? "" : "s"}; git apply takes it)`);
    if (delivery.branch)
      lines.push(`  branch      ${delivery.branch}   (commit ${delivery.commit?.slice(0, 12) ?? ""})`);
    if (delivery.applied) lines.push(`  applied     to ${state.options.source?.dir ?? "your folder"}`);
    if (delivery.note) lines.push(`  note        ${forTerminal(redactor.redactMessage(delivery.note))}`);
  }
  if (state.status !== "passed") lines.push(`  continue    ${continueCommand(state, dir)}`);
  if (error && !(error instanceof FatalError) && error.stack) {
    lines.push("  this is a bug in azlon; the details are in events.jsonl");
  }
  ctx.stdout.write(`${lines.join("\n")}\n`);
}
