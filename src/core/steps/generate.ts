import type { RunContext, StepOutcome } from "../run-context.js";
import type { ProjectView } from "../types.js";
import { askToRead, readsFor } from "./read.js";

export const GENERATION_FILE = "generation.json";

/** The user's project as the first request shows it; the files chosen the first time are kept. */
async function projectView(ctx: RunContext): Promise<ProjectView | null> {
  const { state } = ctx;
  const source = ctx.deps.source;
  if (!source || !state.source) return null;
  const view = await source.view(state.source, state.input);
  if (!state.source.context.length && view.files.length) {
    // Asked again after a read, or resumed: the same files, so the request repeats the last.
    state.source.context = view.files.map((f) => f.path);
    ctx.save();
  }
  return view;
}

/**
 * The generate step: the model's first answer. An answer that asks to read files goes to the
 * read step (and this step is asked again with them); any other is applied next.
 */
export async function generateStep(ctx: RunContext, n: number): Promise<StepOutcome> {
  const { state, deps } = ctx;
  ctx.emit({ type: "phase", phase: "generate", iteration: n });
  const generation = await deps.model.generate(
    {
      ...state.input,
      checks: deps.checks ?? null,
      project: await projectView(ctx),
      reads: await readsFor(ctx, n, "generate"),
    },
    ctx.modelContext(n),
  );
  if (askToRead(ctx, n, "generate", generation.read)) return;
  deps.store.writeIterationJson(n, GENERATION_FILE, generation);
  ctx.pending = { iteration: n, changes: { ...generation, delete: null } };
  state.progress = { iteration: n, step: "apply" };
  ctx.save();
}
