import { boundList, cutEcho, nameList } from "../../util/echo.js";
import type { RunContext, StepOutcome } from "../run-context.js";
import type { ReadFiles, RefusedPath } from "../types.js";

/*
 * The read step: when an answer asks to see files ("read"), azlon answers with them in the
 * next request of the same step, building and running nothing in between. Asks are counted and
 * bounded per round and step; what is shown is bounded per file and per round.
 */

export const READS_FILE = "reads.json";
/** Asks to read, per round, of the generate step and of the validate step each. */
export const READ_TURNS = 3;
/** Files one ask may read. */
export const READ_FILES = 20;
/** A larger file is shown cut (its start and its end). */
export const READ_FILE_BYTES = 64 * 1024;
/** What one round's asks of one step may show in all. */
export const READ_BYTES = 192 * 1024;

export type ReadBy = "generate" | "validate";

/** One ask, and (once the read step has run) what it showed and refused. */
interface ReadTurn {
  by: ReadBy;
  asked: string[];
  shown: string[] | null;
  refused: RefusedPath[] | null;
  bytes?: number;
}

function turnsOf(ctx: RunContext, n: number): ReadTurn[] {
  return ctx.deps.store.readIterationJson<{ turns: ReadTurn[] }>(n, READS_FILE)?.turns ?? [];
}

function saveTurns(ctx: RunContext, n: number, turns: ReadTurn[]): void {
  ctx.deps.store.writeIterationJson(n, READS_FILE, { turns });
}

/**
 * Takes an answer's ask to read, when there is one and the round has asks left: the read step
 * runs next. Otherwise (no ask, or none left) the answer is taken as it is.
 */
export function askToRead(
  ctx: RunContext,
  n: number,
  by: ReadBy,
  paths: readonly string[] | null | undefined,
): boolean {
  if (!paths?.length) return false;
  const turns = turnsOf(ctx, n);
  if (turns.filter((t) => t.by === by).length >= READ_TURNS) {
    ctx.emit({
      type: "warning",
      message: `the model asked to read ${nameList(paths, 5)} after the ${READ_TURNS} asks a round allows; its answer is taken as it is`,
    });
    return false;
  }
  turns.push({
    by,
    asked: paths.slice(0, READ_FILES * 5).map((p) => cutEcho(p, 1000)),
    shown: null,
    refused: null,
  });
  saveTurns(ctx, n, turns);
  ctx.state.progress = { iteration: n, step: "read" };
  ctx.save();
  return true;
}

/** The read step: the files the last ask names, within the bounds; then back to the step that asked. */
export async function readStep(ctx: RunContext, n: number): Promise<StepOutcome> {
  const turns = turnsOf(ctx, n);
  const turn = turns.find((t) => t.shown === null);
  if (!turn) {
    // Resumed after the read was recorded: the step that asked goes on.
    ctx.state.progress = { iteration: n, step: turns.at(-1)?.by ?? "generate" };
    ctx.save();
    return;
  }
  ctx.emit({ type: "phase", phase: "read", iteration: n });
  const asked = [...new Set(turn.asked)];
  const refused: RefusedPath[] = asked.slice(READ_FILES).map((path) => ({
    path: cutEcho(path),
    reason: `read refused: beyond the ${READ_FILES} files one ask may read`,
  }));
  const read = await ctx.deps.store.readFiles(asked.slice(0, READ_FILES), {
    maxFileBytes: READ_FILE_BYTES,
    maxPathLength: ctx.state.options.maxPathLength,
  });
  let used = turns.filter((t) => t.by === turn.by).reduce((sum, t) => sum + (t.bytes ?? 0), 0);
  const shown: string[] = [];
  for (const f of read.files) {
    const bytes = Buffer.byteLength(f.content);
    if (used + bytes > READ_BYTES) {
      refused.push({
        path: f.path,
        reason: `read refused: this round's reads are at their bound (${READ_BYTES / 1024} KiB)`,
      });
      continue;
    }
    used += bytes;
    shown.push(f.path);
  }
  refused.unshift(...read.refused);
  turn.shown = shown;
  turn.refused = boundList(refused, (left) => ({ path: `(${left} more)`, reason: "read refused too" }));
  turn.bytes = read.files
    .filter((f) => shown.includes(f.path))
    .reduce((s, f) => s + Buffer.byteLength(f.content), 0);
  saveTurns(ctx, n, turns);
  ctx.emit({ type: "files.read", iteration: n, by: turn.by, shown, refused: turn.refused });
  ctx.state.progress = { iteration: n, step: turn.by };
  ctx.save();
}

/** What this round's reads showed, for the next request of the step that asked; null when none. */
export async function readsFor(ctx: RunContext, n: number, by: ReadBy): Promise<ReadFiles | null> {
  const done = turnsOf(ctx, n).filter((t) => t.by === by && t.shown !== null);
  if (!done.length) return null;
  const paths = [...new Set(done.flatMap((t) => t.shown ?? []))];
  const { files } = await ctx.deps.store.readFiles(paths, {
    maxFileBytes: READ_FILE_BYTES,
    maxPathLength: ctx.state.options.maxPathLength,
  });
  return {
    files,
    refused: done.flatMap((t) => t.refused ?? []),
    left: Math.max(0, READ_TURNS - done.length),
  };
}

/** Every path read in the run before round n (for the judge's view of a large project). */
export function readBefore(ctx: RunContext, n: number): string[] {
  const paths = new Set<string>();
  for (let i = 1; i < n; i++) for (const t of turnsOf(ctx, i)) for (const p of t.shown ?? []) paths.add(p);
  return [...paths];
}
