import { RunStateError } from "../errors.js";
import type { RunContext, StepOutcome } from "../run-context.js";
import type { ProjectSource, SourceRecord } from "../types.js";

function sourceOf(ctx: RunContext): ProjectSource {
  const source = ctx.deps.source;
  if (!source)
    throw new RunStateError("the run starts from a project (--from), but none was given to the loop");
  return source;
}

/** The snapshot step: the user's project copied into the workspace (again, after a crash in it). */
export async function snapshotStep(ctx: RunContext): Promise<StepOutcome> {
  const { state } = ctx;
  ctx.emit({ type: "phase", phase: "snapshot", iteration: 1 });
  const record = await sourceOf(ctx).snapshot(ctx.signal);
  state.source = record;
  ctx.emit({
    type: "source.snapshot",
    kind: record.kind,
    files: record.files,
    bytes: record.bytes,
    commit: record.commit,
    branch: record.branch,
    dirty: record.dirty,
  });
  state.progress = { iteration: 1, step: "generate" };
  ctx.save();
  return undefined;
}

/** Hands the change back: changes.patch always; after a pass, the branch and the apply asked for. */
async function handBack(ctx: RunContext, record: SourceRecord, passed: boolean): Promise<void> {
  const { state } = ctx;
  const delivery = await sourceOf(ctx).deliver(record, {
    runId: state.runId,
    prompt: state.input.prompt,
    passed,
  });
  state.delivery = delivery;
  ctx.emit({ type: "source.delivered", ...delivery });
}

/** The deliver step, after a pass: the patch, then the branch and the apply asked for. */
export async function deliverStep(ctx: RunContext, n: number): Promise<StepOutcome> {
  const { state } = ctx;
  ctx.emit({ type: "phase", phase: "deliver", iteration: n });
  if (state.source) await handBack(ctx, state.source, true);
  state.progress = { iteration: n, step: "done" };
  ctx.save();
  return { stop: "passed", reason: state.iterations.at(-1)?.verdict?.reason ?? "passed" };
}

/** At the end of a leg that did not pass: the patch of what the run changed so far. */
export async function patchAtEnd(ctx: RunContext): Promise<void> {
  if (ctx.state.source && ctx.deps.source) await handBack(ctx, ctx.state.source, false);
}
