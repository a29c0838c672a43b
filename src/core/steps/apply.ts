import { normalizeChanges, type RawChanges } from "../../workspace/paths.js";
import { RunStateError } from "../errors.js";
import type { RunContext, StepOutcome } from "../run-context.js";
import { summaryFor } from "../state.js";
import type { RunStore } from "../store.js";
import type { Generation } from "../types.js";
import { GENERATION_FILE } from "./generate.js";
import { VERDICT_FILE, type VerdictRecord } from "./records.js";

/** The answer to apply at iteration n, from the run folder: the generation, or the last verdict. */
function readAnswer(store: RunStore, n: number): RawChanges {
  const source =
    n === 1
      ? store.readIterationJson<Generation>(1, GENERATION_FILE)
      : store.readIterationJson<VerdictRecord>(n - 1, VERDICT_FILE);
  if (!source) throw new RunStateError(`the run folder lacks the answer to apply for iteration ${n}`);
  return {
    dockerfile: source.dockerfile,
    files: source.files,
    edits: source.edits ?? null,
    delete: "delete" in source ? source.delete : null,
  };
}

/** The apply step: the last answer's changes written to the workspace (or the cap reached). */
export async function applyStep(ctx: RunContext, n: number): Promise<StepOutcome> {
  const { state, deps } = ctx;
  const max = state.options.maxIterations;
  if (n > max) {
    const last = state.iterations.at(-1)?.verdict?.reason;
    return {
      stop: "max-iterations",
      reason: `not passed after ${max} iteration${max === 1 ? "" : "s"}${last ? `: ${last}` : ""}`,
    };
  }
  ctx.emit({ type: "phase", phase: "apply", iteration: n });
  // The answer as the model gave it; the copy on disk has secrets masked, so it is read only
  // when resuming a run that stopped between answer and apply.
  const raw = ctx.pending?.iteration === n ? ctx.pending.changes : readAnswer(deps.store, n);
  const changes = normalizeChanges(raw, ctx.replyLimits);
  const applied = await deps.store.applyChanges(changes, n);
  summaryFor(state, n).changes = {
    written: applied.written,
    deleted: applied.deleted,
    refused: applied.refused,
    dockerfileChanged: applied.dockerfileChanged,
  };
  ctx.emit({ type: "changes.applied", iteration: n, ...applied });
  state.progress = { iteration: n, step: "execute" };
  ctx.save();
}
