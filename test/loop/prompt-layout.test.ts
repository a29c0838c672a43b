import { describe, expect, it } from "vitest";
import { notPassed, passed } from "../helpers/fakes.js";
import { generate, harness, judge } from "../helpers/loop-harness.js";

describe("the judge's requests keep one layout of the project from round to round", () => {
  it("each request shows what the one before showed, then what the last answer wrote", async () => {
    const lib = "x = 1\n".repeat(400);
    const h = harness(
      [
        generate({ "main.sh": "echo one", "lib.sh": lib, "old.sh": "echo old" }),
        judge(notPassed("fix main", { "main.sh": "echo two" })),
        judge(notPassed("and a helper", { "util.sh": "echo three" }, ["old.sh"])),
        judge(passed(["three"])),
      ],
      [{ output: "one\n" }, { output: "two\n" }, { output: "three\n" }],
    );
    expect((await h.run()).state.status).toBe("passed");
    expect(h.model.judged.map((j) => j.request.deleted)).toEqual([[], [], ["old.sh"]]);
    const layouts = h.model.judged.map((j) => j.request.layout);
    expect(layouts).toHaveLength(3);
    const [first, second, third] = layouts;
    expect(first?.baseRound).toBe(1);
    expect(first?.base.map((f) => f.path).sort()).toEqual(["Dockerfile", "lib.sh", "main.sh", "old.sh"]);
    expect(second?.base).toEqual(first?.base);
    expect(second?.later).toEqual([
      { round: 2, written: [{ path: "main.sh", content: "echo two" }], deleted: [] },
    ]);
    expect(third?.base).toEqual(first?.base);
    expect(third?.later[0]).toEqual(second?.later[0]);
    expect(third?.later[1]).toEqual({
      round: 3,
      written: [{ path: "util.sh", content: "echo three" }],
      deleted: ["old.sh"],
    });
  });
});
