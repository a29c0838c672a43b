import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DockerUnavailableError,
  EndpointError,
  EnvironmentError,
  type FatalError,
  ModelReplyError,
} from "../../src/core/errors.js";
import type { LoopEvent } from "../../src/core/events.js";
import { runLoop } from "../../src/core/loop.js";
import {
  type FakeRun,
  FakeSandbox,
  freshState,
  gen,
  type ModelStep,
  newFolder,
  notPassed,
  ScriptedModel,
} from "../helpers/fakes.js";
import { judge } from "../helpers/loop-harness.js";
import { tempDir } from "../helpers/tmp.js";

const generate: ModelStep = { kind: "generate", answer: gen({ a: "1" }) };
const engineGone = () => new DockerUnavailableError("the Docker engine failed: socket hang up");

interface Path {
  name: string;
  /** Made afresh for each run: the fakes use them up. */
  steps: () => ModelStep[];
  runs: () => FakeRun[];
  /** The store fails (a full disk) when the loop writes an iteration's file. */
  diskFull?: boolean;
  expected: new (...args: never[]) => Error;
}

/** Every way a run can end on an exception after the sandbox has been used, or before. */
const PATHS: Path[] = [
  {
    name: "the model's replies stay unusable at the generate step",
    steps: () => [{ kind: "generate", answer: new ModelReplyError("reply unusable 3 times") }],
    runs: () => [],
    expected: ModelReplyError,
  },
  {
    name: "the endpoint fails at the judge step",
    steps: () => [generate, judge(new EndpointError("cannot reach the endpoint"))],
    runs: () => [{ output: "x" }],
    expected: EndpointError,
  },
  {
    name: "the endpoint fails at the judge step of round 2",
    steps: () => [generate, judge(notPassed("no", { a: "2" })), judge(new EndpointError("401"))],
    runs: () => [{ output: "x" }, { output: "y" }],
    expected: EndpointError,
  },
  {
    name: "the engine fails during the build",
    steps: () => [generate],
    runs: () => [{ buildError: engineGone() }],
    expected: DockerUnavailableError,
  },
  {
    name: "the engine fails while the program runs",
    steps: () => [generate],
    runs: () => [{ runError: engineGone() }],
    expected: DockerUnavailableError,
  },
  {
    name: "the disk under the run folder fills up",
    steps: () => [generate],
    runs: () => [{ output: "x" }],
    diskFull: true,
    expected: EnvironmentError,
  },
  {
    name: "a bug in azlon (an unexpected error) at the judge step",
    steps: () => [generate, judge(new TypeError("cannot read properties of undefined"))],
    runs: () => [{ output: "x" }],
    expected: TypeError,
  },
];

async function runPath(path: Path, sandbox = new FakeSandbox(path.runs())) {
  const dir = tempDir();
  const folder = newFolder(dir);
  if (path.diskFull) {
    folder.writeIterationJson = () => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    };
  }
  const events: LoopEvent[] = [];
  const outcome = await runLoop(
    freshState(),
    {
      model: new ScriptedModel(path.steps()),
      sandbox,
      store: folder,
      report: (e) => events.push(e),
      now: () => performance.now(),
    },
    new AbortController().signal,
  );
  const stored = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
  return { ...outcome, sandbox, events, stored };
}

describe("a run that ends on an exception still cleans up and records its end", () => {
  it.each(PATHS)("$name: cleanup() is called and run.json is marked error", async (path) => {
    const { state, error, sandbox, stored } = await runPath(path);
    expect(error).toBeInstanceOf(path.expected);
    expect(sandbox.cleanups).toBe(1);
    expect(state).toMatchObject({ status: "error", stopReason: "error" });
    expect(stored).toMatchObject({ status: "error", stopReason: "error" });
    expect(stored.legs.at(-1)).toMatchObject({ status: "error", endedAt: expect.any(String) });
  });

  it("an engine that is gone for the cleanup too does not hide the run's own error", async () => {
    const path = PATHS.find((p) => p.name === "the engine fails during the build") as Path;
    const sandbox = new FakeSandbox(path.runs());
    sandbox.cleanupError = engineGone();
    const { error, stored, events } = await runPath(path, sandbox);
    expect(sandbox.cleanups).toBe(1);
    expect((error as FatalError).message).toBe("the Docker engine failed: socket hang up");
    expect(stored).toMatchObject({ status: "error", stopReason: "error" });
    expect(events).toContainEqual(
      expect.objectContaining({ type: "warning", message: expect.stringContaining("could not clean up") }),
    );
    expect(events.at(-1)).toMatchObject({ type: "run.finished", status: "error" });
  });
});

describe("durations", () => {
  it("elapsedMs and the finished event's durationMs are whole milliseconds", async () => {
    let clock = 0;
    const { state, events } = await (async () => {
      const dir = tempDir();
      const events: LoopEvent[] = [];
      const outcome = await runLoop(
        freshState({ maxIterations: 1 }),
        {
          model: new ScriptedModel([generate, judge(notPassed("no"))]),
          sandbox: new FakeSandbox([{ output: "x" }]),
          store: newFolder(dir),
          report: (e) => events.push(e),
          now: () => {
            clock += 12.3456;
            return clock;
          },
        },
        new AbortController().signal,
      );
      return { ...outcome, events };
    })();
    expect(state.stopReason).toBe("max-iterations");
    expect(state.elapsedMs).toBeGreaterThan(0);
    expect(Number.isInteger(state.elapsedMs)).toBe(true);
    const finished = events.find((e) => e.type === "run.finished") as { durationMs: number };
    expect(Number.isInteger(finished.durationMs)).toBe(true);
  });
});
