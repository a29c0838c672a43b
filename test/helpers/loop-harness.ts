import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { LoopEvent } from "../../src/core/events.js";
import { type LoopDeps, runLoop } from "../../src/core/loop.js";
import type { RunState } from "../../src/core/state.js";
import {
  type FakeRun,
  FakeSandbox,
  freshState,
  gen,
  type ModelStep,
  newFolder,
  ScriptedModel,
} from "./fakes.js";
import { tempDir } from "./tmp.js";

export interface Harness {
  dir: string;
  model: ScriptedModel;
  sandbox: FakeSandbox;
  events: LoopEvent[];
  run: (state?: RunState, signal?: AbortSignal) => ReturnType<typeof runLoop>;
  journal: () => Array<LoopEvent & { at: string }>;
  readJson: <T>(iteration: number, name: string) => T;
}

/** The loop over a scripted model, a fake sandbox and a real run folder in a temp dir. */
export function harness(
  steps: ModelStep[],
  runs: FakeRun[],
  extra: Partial<LoopDeps> = {},
  dir = tempDir(),
): Harness {
  const model = new ScriptedModel(steps);
  const sandbox = new FakeSandbox(runs);
  const events: LoopEvent[] = [];
  const folder = newFolder(dir);
  return {
    dir,
    model,
    sandbox,
    events,
    run: (state = freshState(), signal = new AbortController().signal) =>
      runLoop(
        state,
        {
          model,
          sandbox,
          store: folder,
          report: (e) => events.push(e),
          now: () => performance.now(),
          ...extra,
        },
        signal,
      ),
    journal: () =>
      readFileSync(join(dir, "events.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    readJson: <T>(iteration: number, name: string) =>
      JSON.parse(
        readFileSync(join(dir, "iterations", String(iteration).padStart(2, "0"), name), "utf8"),
      ) as T,
  };
}

export const judge = (answer: Extract<ModelStep, { kind: "judge" }>["answer"]): ModelStep => ({
  kind: "judge",
  answer,
});

export const generate = (files: Record<string, string>, dockerfile?: string): ModelStep => ({
  kind: "generate",
  answer: gen(files, dockerfile),
});
