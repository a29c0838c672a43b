import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SourceOptions } from "../../src/core/state.js";
import { READ_BYTES, READ_FILE_BYTES, READ_FILES, READ_TURNS } from "../../src/core/steps/read.js";
import type { Generation, Verdict } from "../../src/core/types.js";
import { UserProject } from "../../src/workspace/source.js";
import { freshState, gen, notPassed, passed } from "../helpers/fakes.js";
import { generate, harness, judge } from "../helpers/loop-harness.js";
import { tempDir } from "../helpers/tmp.js";

/** A run from a plain folder of the user's, with a scripted model and a fake sandbox. */
function fromFolder(files: Record<string, string>) {
  const project = tempDir(files);
  const dir = tempDir();
  const source: SourceOptions = {
    dir: project,
    dockerfile: null,
    branch: null,
    apply: false,
    keepDockerfile: false,
    maxBytes: 2 ** 20,
  };
  const deps = { source: new UserProject(source, dir, join(dir, "workspace"), null) };
  return { project, dir, deps, state: freshState({ source }) };
}

const asksToRead = (read: string[]): Generation => ({ ...gen({}), dockerfile: null, read });
const judgeReads = (read: string[]): Verdict => ({ ...notPassed("need to see it"), read });

describe("the read step", () => {
  it("a first answer that asks to read gets the files in the next request; nothing is applied or built between; what cannot be read is told", async () => {
    const run = fromFolder({
      Dockerfile: "FROM busybox\n",
      "README.md": "# greet\n",
      "src/deep/greet.sh": 'echo "hello, wrld"\n',
      "bin.dat": "\0\0binary",
    });
    let builtBefore = -1;
    const h = harness(
      [
        {
          kind: "generate",
          answer: (req) => {
            expect(req.project?.map).toContain("greet.sh (");
            expect(req.project?.dockerfile).toBe("FROM busybox\n");
            expect(req.reads).toBeNull();
            return asksToRead(["src/deep/greet.sh", "../outside.txt", "src/deep", "bin.dat", "nope.txt"]);
          },
        },
        {
          kind: "generate",
          answer: (req) => {
            builtBefore = h.sandbox.built.length;
            expect(req.reads?.files).toEqual([
              { path: "src/deep/greet.sh", content: 'echo "hello, wrld"\n' },
            ]);
            expect(req.reads?.refused.map((r) => `${r.path}: ${r.reason}`)).toEqual([
              "../outside.txt: read refused: the path escapes the workspace",
              "src/deep: read refused: it is a folder; ask for the files in it by their paths",
              "bin.dat: read refused: it is a binary file (8 B), which cannot be shown",
              "nope.txt: read refused: it does not exist (the map lists the project's files)",
            ]);
            expect(req.reads?.left).toBe(READ_TURNS - 1);
            return {
              ...gen({}),
              dockerfile: null,
              edits: [{ path: "src/deep/greet.sh", search: "wrld", replace: "world" }],
            };
          },
        },
        judge(passed(["hello, world"])),
      ],
      [{ output: "hello, world\n" }],
      run.deps,
      run.dir,
    );
    const { state } = await h.run(run.state);
    expect(state.status).toBe("passed");
    expect(builtBefore).toBe(0);
    expect(readFileSync(join(h.dir, "workspace/Dockerfile"), "utf8")).toBe("FROM busybox\n");
    expect(state.delivery?.files).toEqual(["src/deep/greet.sh"]);
    expect(readFileSync(join(h.dir, "changes.patch"), "utf8")).toContain('+echo "hello, world"');
    const phases = h.events.filter((e) => e.type === "phase").map((e) => (e as { phase: string }).phase);
    expect(phases).toEqual([
      "snapshot",
      "generate",
      "read",
      "generate",
      "apply",
      "build",
      "run",
      "validate",
      "deliver",
    ]);
    // The user's folder is as it was.
    expect(readFileSync(join(run.project, "src/deep/greet.sh"), "utf8")).toBe('echo "hello, wrld"\n');
  });

  it("reads are bounded: a large file shows its start and its end, one ask reads 20 files, a round's reads 192 KiB", async () => {
    expect([READ_FILE_BYTES, READ_FILES, READ_BYTES]).toEqual([64 * 1024, 20, 192 * 1024]);
    const big = `START of big\n${"middle line of the big file\n".repeat(4000)}END of big\n`; // ~110 KiB
    const small = Object.fromEntries(
      Array.from({ length: 24 }, (_, i) => [`s/f${String(i).padStart(2, "0")}.txt`, `small ${i}\n`]),
    );
    const mid = Object.fromEntries(
      ["m1", "m2", "m3"].map((m) => [`${m}.txt`, `${m}\n${"x".repeat(60 * 1024)}\n`]),
    );
    const run = fromFolder({ Dockerfile: "FROM busybox\n", "big.txt": big, ...small, ...mid });
    const smallPaths = Object.keys(small);
    const h = harness(
      [
        { kind: "generate", answer: asksToRead(["big.txt", ...smallPaths]) },
        {
          kind: "generate",
          answer: (req) => {
            const files = req.reads?.files ?? [];
            expect(files.map((f) => f.path)).toEqual(["big.txt", ...smallPaths.slice(0, READ_FILES - 1)]);
            const shown = files[0]?.content ?? "";
            expect(shown.startsWith("START of big\n")).toBe(true);
            expect(shown.endsWith("END of big\n")).toBe(true);
            expect(shown).toContain("file cut here; edits must match text shown");
            expect(Buffer.byteLength(shown)).toBeLessThan(READ_FILE_BYTES + 200);
            expect(req.reads?.refused).toEqual(
              smallPaths.slice(READ_FILES - 1).map((path) => ({
                path,
                reason: "read refused: beyond the 20 files one ask may read",
              })),
            );
            return asksToRead(["m1.txt", "m2.txt", "m3.txt"]);
          },
        },
        {
          kind: "generate",
          answer: (req) => {
            // 64 KiB of the big file, the small ones, then 60 KiB each: the third is past 192 KiB.
            expect(req.reads?.files.map((f) => f.path)).toContain("m2.txt");
            expect(req.reads?.files.map((f) => f.path)).not.toContain("m3.txt");
            expect(req.reads?.refused).toContainEqual({
              path: "m3.txt",
              reason: "read refused: this round's reads are at their bound (192 KiB)",
            });
            const total = (req.reads?.files ?? []).reduce((n, f) => n + Buffer.byteLength(f.content), 0);
            expect(total).toBeLessThanOrEqual(READ_BYTES);
            return { ...gen({}), dockerfile: null };
          },
        },
        judge(passed(["ok"])),
      ],
      [{ output: "ok\n" }],
      run.deps,
      run.dir,
    );
    const { state } = await h.run(run.state);
    expect(state.status).toBe("passed");
  });

  it("the judge may ask to read, and is asked again in the same round without a build; past the bound its answer is taken as it is", async () => {
    const h = harness(
      [
        generate({ "main.sh": "echo hi" }),
        ...Array.from({ length: READ_TURNS }, () => judge(judgeReads(["main.sh"]))),
        judge((req) => {
          expect(req.reads?.left).toBe(0);
          return judgeReads(["main.sh"]);
        }),
        judge(passed(["hi"])),
      ],
      [{ output: "hi\n" }],
    );
    const { state } = await h.run();
    expect(state.status).toBe("passed");
    expect(h.sandbox.built).toHaveLength(1);
    const second = h.model.judged[1]?.request;
    expect(second?.iteration).toBe(1);
    expect(second?.reads?.files).toEqual([{ path: "main.sh", content: "echo hi" }]);
    const warnings = h.events
      .filter((e) => e.type === "warning")
      .map((e) => (e as { message: string }).message);
    expect(warnings).toContain(
      `the model asked to read main.sh after the ${READ_TURNS} asks a round allows; its answer is taken as it is`,
    );
    expect(state.iterations[1]?.reusedFrom).toBe(1);
  });

  it("a run from the user's project that passes as its token budget runs out still passes, and hands back its patch", async () => {
    const run = fromFolder({ "a.txt": "alpha\n", Dockerfile: "FROM busybox\n" });
    run.state.options.budgets.maxTokens = 300; // the generation and the judge take 150 each
    const h = harness(
      [
        { kind: "generate", answer: { ...gen({ "a.txt": "beta\n" }), dockerfile: null } },
        judge(passed(["ok"])),
      ],
      [{ output: "ok\n" }],
      run.deps,
      run.dir,
    );
    const { state } = await h.run(run.state);
    expect(state).toMatchObject({ status: "passed", stopReason: "passed" });
    expect(state.delivery?.files).toEqual(["a.txt"]);
  });

  it("a run stopped before its read resumes at the read step and shows the files", async () => {
    const controller = new AbortController();
    const run = fromFolder({ "a.txt": "alpha\n", Dockerfile: "FROM busybox\n" });
    const first = harness(
      [
        {
          kind: "generate",
          answer: () => {
            controller.abort();
            return asksToRead(["a.txt"]);
          },
        },
      ],
      [],
      run.deps,
      run.dir,
    );
    const stopped = await first.run(run.state, controller.signal);
    expect(stopped.state).toMatchObject({ status: "interrupted", progress: { step: "read" } });
    // A run that did not pass leaves its patch (empty: nothing changed yet).
    expect(readFileSync(join(run.dir, "changes.patch"), "utf8")).toBe("");
    writeFileSync(join(run.project, "a.txt"), "changed by the user since\n");
    const state = JSON.parse(readFileSync(join(run.dir, "run.json"), "utf8"));
    const second = harness(
      [
        {
          kind: "generate",
          answer: (req) => {
            // The snapshot, not the user's folder as it is now.
            expect(req.reads?.files).toEqual([{ path: "a.txt", content: "alpha\n" }]);
            return { ...gen({}), dockerfile: null };
          },
        },
        judge(passed(["ok"])),
      ],
      [{ output: "ok\n" }],
      run.deps,
      run.dir,
    );
    const resumed = await second.run(state);
    expect(resumed.state.status).toBe("passed");
    expect(existsSync(join(run.dir, "iterations/01/reads.json"))).toBe(true);
  });
});
