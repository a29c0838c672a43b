import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FileEdit, Verdict } from "../../src/core/types.js";
import { freshState, gen, notPassed, passed } from "../helpers/fakes.js";
import { harness } from "../helpers/loop-harness.js";
import { tempDir } from "../helpers/tmp.js";

const withEdits = (reason: string, edits: FileEdit[]): Verdict => ({ ...notPassed(reason), edits });
const BIG = `${"# padding\n".repeat(4000)}print("total=" + str(2 - 3))\n`;

describe("edits through the loop", () => {
  it("a judge's edit is applied exactly; a failed one is listed among the refusals of the next judge prompt", async () => {
    const h = harness(
      [
        { kind: "generate", answer: gen({ "main.py": BIG }) },
        {
          kind: "judge",
          answer: withEdits("total is wrong", [
            { path: "main.py", search: "2 - 3", replace: "2 + 3" },
            { path: "main.py", search: "print('total')", replace: "x" },
            { path: "Dockerfile", search: "FROM busybox", replace: "FROM busybox:1.36" },
          ]),
        },
        {
          kind: "judge",
          answer: (req) => {
            expect(req.refused).toEqual([
              {
                path: "main.py",
                reason:
                  "edit 2 refused: the search text occurs 0 times in the file; it must occur exactly once: copy it from the file as it is now, or send the whole file in files",
              },
            ]);
            expect(req.dockerfile).toBe("FROM busybox:1.36\n");
            return passed(["total=5"]);
          },
        },
      ],
      [{ output: "total=-1\n" }, { output: "total=5\n" }],
    );
    const { state } = await h.run();
    expect(state.status).toBe("passed");
    expect(readFileSync(join(h.dir, "workspace/main.py"), "utf8")).toBe(BIG.replace("2 - 3", "2 + 3"));
    expect(state.iterations[1]?.changes).toMatchObject({ written: ["main.py"], dockerfileChanged: true });
  });

  it("a generation may carry edits to the files it writes (applied after them)", async () => {
    const h = harness(
      [
        {
          kind: "generate",
          answer: { ...gen({ "a.txt": "one\n" }), edits: [{ path: "a.txt", search: "one", replace: "two" }] },
        },
        { kind: "judge", answer: passed(["two"]) },
      ],
      [{ output: "two\n" }],
    );
    const { state } = await h.run();
    expect(state.status).toBe("passed");
    expect(readFileSync(join(h.dir, "workspace/a.txt"), "utf8")).toBe("two\n");
  });

  it("resuming a run stopped before its pending fix applies the fix's edits from verdict.json", async () => {
    const dir = tempDir();
    const first = harness(
      [
        { kind: "generate", answer: gen({ "main.py": BIG }) },
        {
          kind: "judge",
          answer: withEdits("fix it", [{ path: "main.py", search: "2 - 3", replace: "2 + 3" }]),
        },
      ],
      [{ output: "total=-1\n" }],
      {},
      dir,
    );
    const { state } = await first.run(freshState({ maxIterations: 1 }));
    expect(state.progress).toEqual({ iteration: 2, step: "apply" });

    const second = harness(
      [{ kind: "judge", answer: passed(["total=5"]) }],
      [{ output: "total=5\n" }],
      {},
      dir,
    );
    state.options.maxIterations = 2;
    const resumed = await second.run(state);
    expect(resumed.state.status).toBe("passed");
    expect(readFileSync(join(dir, "workspace/main.py"), "utf8")).toBe(BIG.replace("2 - 3", "2 + 3"));
  });
});
