import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freshState, notPassed, passed } from "../helpers/fakes.js";
import { generate, harness, judge } from "../helpers/loop-harness.js";
import { tempDir } from "../helpers/tmp.js";

const round = (dir: string, n: number, name: string) =>
  readFileSync(join(dir, "iterations", String(n).padStart(2, "0"), name), "utf8");

describe("an iteration that changes nothing is not built or run again", () => {
  it("a verdict with no changes: no second build, the judge sees the same output, and is told so", async () => {
    const h = harness(
      [generate({ "a.sh": "echo hi" }), judge(notPassed("look again")), judge(passed(["hi"]))],
      [{ output: "hi\n" }, { output: "a second run must not happen\n" }],
    );
    const { state } = await h.run();
    expect(state.status).toBe("passed");
    expect(h.sandbox.built).toHaveLength(1);
    expect(h.model.judged[1]?.request.exec?.output.text).toBe("hi\n");
    expect(h.model.judged[1]?.request.reusedFrom).toBe(1);
    const reused = h.journal().filter((e) => e.type === "execute.reused");
    expect(reused).toMatchObject([{ iteration: 2, from: 1 }]);
    // The round's folder is complete, as if it had run.
    expect(round(h.dir, 2, "result.json")).toBe(round(h.dir, 1, "result.json"));
    expect(round(h.dir, 2, "output.log")).toBe("hi\n");
    expect(state.iterations[1]).toMatchObject({ reusedFrom: 1, exec: { exitCode: 0 } });
  });

  it("the next round's memory of the reused round says nothing changed", async () => {
    const h = harness(
      [
        generate({ "a.sh": "echo hi" }),
        judge(notPassed("look again")),
        judge(notPassed("fix it", { "a.sh": "echo ho" })),
        judge(passed(["ho"])),
      ],
      [{ output: "hi\n" }, { output: "ho\n" }],
    );
    expect((await h.run()).state.status).toBe("passed");
    expect(h.model.judged[2]?.request.history[1]?.summary).toContain(
      "nothing changed, so round 1's result was reused",
    );
  });

  it("a file rewritten with the same content is no change", async () => {
    const h = harness(
      [
        generate({ "a.sh": "echo hi" }),
        judge(notPassed("same", { "a.sh": "echo hi" })),
        judge(passed(["hi"])),
      ],
      [{ output: "hi\n" }],
    );
    expect((await h.run()).state.status).toBe("passed");
    expect(h.sandbox.built).toHaveLength(1);
  });

  it("a failed build is tried again even when nothing changed", async () => {
    const h = harness(
      [generate({ "a.sh": "echo hi" }), judge(notPassed("network hiccup: try again")), judge(passed(["hi"]))],
      [{ buildOk: false }, { output: "hi\n" }],
    );
    expect((await h.run()).state.status).toBe("passed");
    expect(h.sandbox.built).toHaveLength(2);
  });

  it("a changed file is built and run again", async () => {
    const h = harness(
      [
        generate({ "a.sh": "echo hi" }),
        judge(notPassed("fix", { "a.sh": "echo ho" })),
        judge(passed(["ho"])),
      ],
      [{ output: "hi\n" }, { output: "ho\n" }],
    );
    expect((await h.run()).state.status).toBe("passed");
    expect(h.sandbox.built).toHaveLength(2);
    expect(h.journal().some((e) => e.type === "execute.reused")).toBe(false);
  });

  it("a resume with more memory runs the unchanged project again", async () => {
    const dir = tempDir();
    const first = harness(
      [generate({ "a.sh": "grow" }), judge(notPassed("out of memory"))],
      [{ oomKilled: true, exitCode: 137 }],
      {},
      dir,
    );
    const { state } = await first.run(freshState({ maxIterations: 1 }));
    expect(state.stopReason).toBe("max-iterations");

    const second = harness([judge(passed(["done"]))], [{ output: "done\n" }], {}, dir);
    state.options.maxIterations = 2;
    state.options.limits = { ...state.options.limits, memoryBytes: state.options.limits.memoryBytes * 2 };
    expect((await second.run(state)).state.status).toBe("passed");
    expect(second.sandbox.built).toHaveLength(1);
  });

  it("a resume with the same limits reuses the unchanged round", async () => {
    const dir = tempDir();
    const first = harness(
      [generate({ "a.sh": "echo hi" }), judge(notPassed("again"))],
      [{ output: "hi\n" }],
      {},
      dir,
    );
    const { state } = await first.run(freshState({ maxIterations: 1 }));
    const second = harness([judge(passed(["hi"]))], [], {}, dir);
    state.options.maxIterations = 2;
    expect((await second.run(state)).state.status).toBe("passed");
    expect(second.sandbox.built).toHaveLength(0);
    expect(second.journal().filter((e) => e.type === "execute.reused")).toMatchObject([
      { iteration: 2, from: 1 },
    ]);
  });
});
