import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EndpointError, EnvironmentError, ModelReplyError } from "../../src/core/errors.js";
import { runLoop } from "../../src/core/loop.js";
import type { RunOptions, RunState } from "../../src/core/state.js";
import {
  FakeSandbox,
  freshState,
  gen,
  newFolder,
  notPassed,
  passed,
  ScriptedModel,
} from "../helpers/fakes.js";
import { generate, harness, judge } from "../helpers/loop-harness.js";
import { tempDir } from "../helpers/tmp.js";

function withOptions(options: Partial<RunOptions>): RunState {
  return freshState(options);
}

describe("the loop with a scripted model and a fake sandbox", () => {
  it("passes on the first iteration and records everything", async () => {
    const h = harness(
      [generate({ "hello.sh": "echo hello" }), judge(passed(["hello"]))],
      [{ output: "hello\n" }],
    );
    const { state, error } = await h.run();
    expect(error).toBeNull();
    expect(state).toMatchObject({ status: "passed", stopReason: "passed", image: "azlon/fake" });
    expect(state.iterations).toHaveLength(1);
    expect(state.usage).toEqual({ promptTokens: 200, completionTokens: 100, cachedTokens: 0 });
    expect(state.iterations[0]?.usage).toEqual({ promptTokens: 200, completionTokens: 100, cachedTokens: 0 });
    expect(readFileSync(join(h.dir, "workspace/hello.sh"), "utf8")).toBe("echo hello");
    expect(readFileSync(join(h.dir, "workspace/Dockerfile"), "utf8")).toBe("FROM busybox\n");
    expect(JSON.parse(readFileSync(join(h.dir, "run.json"), "utf8")).status).toBe("passed");
    const types = h.journal().map((e) => e.type);
    expect(types[0]).toBe("run.started");
    expect(types.at(-1)).toBe("run.finished");
    expect(types).toEqual(
      expect.arrayContaining(["changes.applied", "build.finished", "exec.finished", "verdict"]),
    );
    expect(h.sandbox.cleanups).toBeGreaterThan(0);
  });

  it("applies the judge's fix and passes on iteration 2; the judge saw the output and exit code", async () => {
    const h = harness(
      [
        generate({ "hello.sh": "echo helo; exit 3" }),
        judge(notPassed("typo", { "hello.sh": "echo hello" })),
        judge(passed(["hello"])),
      ],
      [{ output: "helo\n", exitCode: 3 }, { output: "hello\n" }],
    );
    const { state } = await h.run();
    expect(state.status).toBe("passed");
    expect(state.iterations).toHaveLength(2);
    const first = h.model.judged[0]?.request;
    expect(first?.exec?.exitCode).toBe(3);
    expect(first?.exec?.output.text).toBe("helo\n");
    expect(first?.files).toEqual([{ path: "hello.sh", content: "echo helo; exit 3" }]);
    expect(readFileSync(join(h.dir, "workspace/hello.sh"), "utf8")).toBe("echo hello");
    expect(h.model.judged[1]?.request.history[0]?.summary).toContain("typo");
  });

  it("stops at the iteration cap as failed, never passed", async () => {
    const h = harness(
      [
        generate({ a: "1" }),
        judge(notPassed("no", { a: "2" })),
        judge(notPassed("still no", { a: "3" })),
        judge(notPassed("never")),
      ],
      [{ output: "x" }, { output: "x" }, { output: "x" }],
    );
    const { state } = await h.run(withOptions({ maxIterations: 3 }));
    expect(state).toMatchObject({ status: "failed", stopReason: "max-iterations" });
    expect(state.reason).toContain("not passed after 3 iterations");
    expect(state.iterations.filter((i) => i.build)).toHaveLength(3);
    expect(h.sandbox.built).toHaveLength(3);
  });

  it("shows a failed build's log to the judge and applies its new Dockerfile", async () => {
    const h = harness(
      [
        generate({ a: "1" }, "FROM nope\n"),
        judge({ ...notPassed("bad base image"), dockerfile: "FROM busybox\n" }),
        judge(passed(["ok"])),
      ],
      [
        { buildOk: false, buildLog: "Step 1/1 : FROM nope\nERROR: pull access denied for nope" },
        { output: "ok\n" },
      ],
    );
    const { state } = await h.run();
    expect(state.status).toBe("passed");
    // Why it failed is in run.json and the journal, not only in build.log.
    expect(state.iterations[0]?.build).toMatchObject({ ok: false, cause: "pull access denied for nope" });
    expect(state.iterations[1]?.build?.cause).toBeUndefined();
    expect(h.journal().find((e) => e.type === "build.finished")).toMatchObject({
      ok: false,
      cause: "pull access denied for nope",
    });
    const first = h.model.judged[0]?.request;
    expect(first?.build.ok).toBe(false);
    expect(first?.build.log.text).toContain("pull access denied");
    expect(first?.exec).toBeNull();
    expect(readFileSync(join(h.dir, "workspace/Dockerfile"), "utf8")).toBe("FROM busybox\n");
  });

  it("does not accept a pass whose evidence is not in the output; the judge is told which quote", async () => {
    const h = harness(
      [
        generate({ a: "1" }),
        judge(passed(["sum = 5"])), // the output says sum = 4
        judge((_req, feedback) => {
          expect(feedback[0]?.problem).toContain('"sum = 5"');
          return notPassed("sum is wrong", { a: "2" });
        }),
        judge(passed(["sum = 5"])),
      ],
      [{ output: "sum = 4\n" }, { output: "sum = 5\n" }],
    );
    const { state } = await h.run();
    expect(state.status).toBe("passed");
    expect(state.iterations[0]?.verdict).toMatchObject({ passed: false });
    const rejected = h.journal().filter((e) => e.type === "evidence.rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ iteration: 1, missing: ["sum = 5"] });
    const verdict = JSON.parse(readFileSync(join(h.dir, "iterations/01/verdict.json"), "utf8"));
    expect(verdict.rejections[0].missing).toEqual(["sum = 5"]);
  });

  it("a judge that keeps claiming an unproven pass never makes the run pass", async () => {
    const lie = passed(["ALL TESTS PASSED"]);
    const h = harness(
      [generate({ a: "1" }), judge(lie), judge(lie), judge(lie), judge(lie), judge(lie), judge(lie)],
      [{ output: "FAILED 3 tests\n" }, { output: "FAILED 3 tests\n" }],
    );
    const { state } = await h.run(withOptions({ maxIterations: 2, repairAttempts: 2 }));
    expect(state.status).toBe("failed");
    expect(state.stopReason).toBe("max-iterations");
    expect(state.iterations.every((i) => i.verdict?.accepted === false)).toBe(true);
    expect(state.reason).toContain(
      'the judge claimed a pass that the output does not show (not found: "ALL TESTS PASSED")',
    );
    expect(h.model.remaining).toBe(0);
  });

  it("does not accept a pass when the build failed", async () => {
    const h = harness(
      [generate({ a: "1" }), judge(passed(["Step 1/1"])), judge(notPassed("build broke"))],
      [{ buildOk: false, buildLog: "Step 1/1 : FROM x\nERROR" }],
    );
    const { state } = await h.run(withOptions({ maxIterations: 1 }));
    expect(state.status).toBe("failed");
    expect(h.model.judged[1]?.feedback[0]?.problem).toContain("build failed");
  });

  it("refuses paths that escape the workspace, tells the judge, and goes on", async () => {
    const root = tempDir();
    const dir = join(root, "run");
    const h = harness(
      [
        { kind: "generate", answer: gen({ "../escape.txt": "x", "/etc/evil": "x", "ok.txt": "fine" }) },
        judge((req) => {
          expect(req.refused.map((r) => r.path)).toEqual(["../escape.txt", "/etc/evil"]);
          return passed(["fine"]);
        }),
      ],
      [{ output: "fine\n" }],
      {},
      dir,
    );
    const { state } = await h.run();
    expect(state.status).toBe("passed");
    expect(existsSync(join(root, "escape.txt"))).toBe(false);
    expect(readdirSync(join(dir, "workspace")).sort()).toEqual(["Dockerfile", "ok.txt"]);
    const applied = h.journal().find((e) => e.type === "changes.applied");
    expect(applied).toMatchObject({ refused: [{ path: "../escape.txt" }, { path: "/etc/evil" }] });
  });

  it("deletes the files the verdict names", async () => {
    const h = harness(
      [
        generate({ "old.py": "x", "keep.py": "y" }),
        judge(notPassed("remove old", null, ["old.py"])),
        judge(passed(["y"])),
      ],
      [{ output: "x" }, { output: "y" }],
    );
    await h.run();
    expect(readdirSync(join(h.dir, "workspace")).sort()).toEqual(["Dockerfile", "keep.py"]);
  });

  it("stops cleanly at the token budget", async () => {
    const h = harness(
      [
        generate({ a: "1" }),
        judge(notPassed("no", { a: "2" })),
        judge(notPassed("no")),
        judge(notPassed("no")),
      ],
      [{ output: "x" }, { output: "x" }, { output: "x" }],
    );
    // Each call uses 150 tokens: after generate + one judge (300) the next round may not start.
    const { state } = await h.run(
      withOptions({ budgets: { maxTokens: 300, maxCostUsd: null, maxTimeMs: null } }),
    );
    expect(state).toMatchObject({ status: "failed", stopReason: "max-tokens" });
    expect(state.reason).toContain("300");
    expect(h.sandbox.built).toHaveLength(1);
  });

  it("stops at the cost budget, priced by the table", async () => {
    const h = harness(
      [generate({ a: "1" }), judge(notPassed("no")), judge(notPassed("no"))],
      [{ output: "x" }, { output: "x" }],
    );
    const price = { input: 1000, output: 1000 }; // $0.15 per 150-token call
    const { state } = await h.run(
      withOptions({ price, budgets: { maxTokens: null, maxCostUsd: 0.2, maxTimeMs: null } }),
    );
    expect(state).toMatchObject({ status: "failed", stopReason: "max-cost" });
    expect(state.costUsd).toBeCloseTo(0.3, 5);
  });

  it("a run whose cost became unknown stops before any call when resumed with a cost budget", async () => {
    const h = harness([generate({ a: "1" })], [{ output: "x" }]);
    const state = withOptions({ budgets: { maxTokens: null, maxCostUsd: 1, maxTimeMs: null } });
    state.costUsd = null; // an earlier leg's call was served by a model without a price
    const { state: after } = await h.run(state);
    expect(after).toMatchObject({ stopReason: "max-cost" });
    expect(after.reason).toContain("cost is unknown");
    expect(h.model.generated + h.model.judged.length).toBe(0);
  });

  it("stops at the time budget while a program hangs", async () => {
    const h = harness([generate({ a: "1" })], [{ hang: true }]);
    const { state } = await h.run(
      withOptions({ budgets: { maxTokens: null, maxCostUsd: null, maxTimeMs: 300 } }),
    );
    expect(state).toMatchObject({ status: "failed", stopReason: "max-time" });
    expect(h.sandbox.cleanups).toBeGreaterThan(0);
  });

  it("an abort (Ctrl-C) ends the run as interrupted, cleaned up and recorded", async () => {
    const h = harness([generate({ a: "1" })], [{ hang: true }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const { state } = await h.run(undefined, controller.signal);
    expect(state).toMatchObject({ status: "interrupted", stopReason: "interrupted" });
    expect(h.sandbox.cleanups).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(h.dir, "run.json"), "utf8")).status).toBe("interrupted");
    expect(h.journal().at(-1)).toMatchObject({ type: "run.finished", status: "interrupted" });
  });

  it("a model that cannot answer ends the run as an error with the cause", async () => {
    const h = harness([{ kind: "generate", answer: new ModelReplyError("reply unusable 3 times") }], []);
    const { state, error } = await h.run();
    expect(state).toMatchObject({ status: "error", stopReason: "error", reason: "reply unusable 3 times" });
    expect(error).toBeInstanceOf(ModelReplyError);
  });

  it("resumes after the cap with a raised limit, applying the pending fix first", async () => {
    const dir = tempDir();
    const first = harness(
      [generate({ a: "bad" }), judge(notPassed("fix a", { a: "good" }))],
      [{ output: "bad" }],
      {},
      dir,
    );
    const { state } = await first.run(withOptions({ maxIterations: 1 }));
    expect(state.stopReason).toBe("max-iterations");
    expect(state.progress).toEqual({ iteration: 2, step: "apply" });

    const second = harness([judge(passed(["good"]))], [{ output: "good" }], {}, dir);
    state.options.maxIterations = 3;
    const resumed = await second.run(state);
    expect(resumed.state.status).toBe("passed");
    expect(resumed.state.legs).toHaveLength(2);
    expect(readFileSync(join(dir, "workspace/a"), "utf8")).toBe("good");
    expect(second.model.generated).toBe(0);
    const started = second.journal().filter((e) => e.type === "run.started");
    expect(started.map((e) => (e as { resumed: boolean }).resumed)).toEqual([false, true]);
  });

  it("resumes a run that stopped between steps without redoing finished ones", async () => {
    const dir = tempDir();
    const first = harness([generate({ a: "1" }), judge(new Error("crash"))], [{ output: "one" }], {}, dir);
    // Simulate a crash while judging: the judge step throws an unexpected error.
    const crashed = await first.run();
    expect(crashed.state.status).toBe("error");
    expect(crashed.state.progress).toEqual({ iteration: 1, step: "validate" });

    const second = harness([judge(passed(["one"]))], [], {}, dir);
    const resumed = await second.run(crashed.state);
    expect(resumed.state.status).toBe("passed");
    expect(second.sandbox.built).toHaveLength(0); // not rebuilt: the result was on disk
  });

  it("an environment error keeps its type for the exit code", async () => {
    const h = harness([{ kind: "generate", answer: new EndpointError("cannot reach the endpoint") }], []);
    const { state, error } = await h.run();
    expect(state.status).toBe("error");
    expect(error).toBeInstanceOf(EndpointError);
  });

  it("a full disk under the run folder ends the run as an environment error, not a crash", async () => {
    const dir = tempDir();
    const folder = newFolder(dir);
    let writes = 0;
    folder.writeIterationJson = () => {
      writes++;
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    };
    const model = new ScriptedModel([generate({ a: "1" })]);
    const { state, error } = await runLoop(
      freshState(),
      { model, sandbox: new FakeSandbox([]), store: folder, report: () => {}, now: () => performance.now() },
      new AbortController().signal,
    );
    expect(writes).toBe(1);
    expect(state.status).toBe("error");
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error?.message).toContain("no space left");
    expect(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).status).toBe("error");
  });
});
