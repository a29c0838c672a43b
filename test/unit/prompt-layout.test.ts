import { describe, expect, it } from "vitest";
import { freshLayout, nextLayout, STALE_SHARE, shownBytes } from "../../src/core/steps/prompt-layout.js";
import type { FileEntry } from "../../src/core/types.js";

const dockerfile = "FROM python:3.12-slim\nCOPY . .\n";
const lib = { path: "lib.py", content: "x = 1\n".repeat(500) }; // 3,000 bytes
const main = { path: "main.py", content: "print('round 1')\n" };
const project = (iteration: number, files: FileEntry[], changedIn: Record<string, number> = {}) => ({
  dockerfile,
  files,
  iteration,
  changedIn,
});

describe("the judge's project layout, kept from round to round", () => {
  it("starts with every file once, oldest change first and the Dockerfile first of its round", () => {
    const layout = nextLayout(
      undefined,
      project(3, [main, lib], { "main.py": 2, Dockerfile: 1, "lib.py": 1 }),
    );
    expect(layout.baseRound).toBe(3);
    expect(layout.base.map((f) => f.path)).toEqual(["Dockerfile", "lib.py", "main.py"]);
    expect(layout.later).toEqual([]);
  });

  it("appends the files a round wrote, whole, and the paths it deleted, leaving what was shown as it was", () => {
    const first = nextLayout(undefined, project(1, [main, lib]));
    const fixed = { path: "main.py", content: "print('round 2')\n" };
    const added = { path: "util.py", content: "def f(): pass\n" };
    const second = nextLayout(first, project(2, [fixed, lib, added]));
    expect(second.base).toEqual(first.base);
    expect(second.later).toEqual([{ round: 2, written: [fixed, added], deleted: [] }]);
    const third = nextLayout(second, project(3, [fixed, lib]));
    expect(third.later.slice(0, 1)).toEqual(second.later);
    expect(third.later[1]).toEqual({ round: 3, written: [], deleted: ["util.py"] });
  });

  it("adds nothing for a round that changed nothing", () => {
    const first = nextLayout(undefined, project(1, [main, lib]));
    expect(nextLayout(first, project(2, [main, lib]))).toBe(first);
  });

  it("starts afresh once stale copies pass a quarter of the project", () => {
    // Two 200-byte files take turns: each round rewrites one, so earlier copies go stale.
    const churn = (round: number) => ({
      path: round % 2 ? "odd.py" : "even.py",
      content: `# round ${round}\n`.padEnd(200, "#"),
    });
    let layout = nextLayout(undefined, project(1, [main, lib, churn(0), churn(1)]));
    const projectBytes = shownBytes(layout);
    let round = 1;
    const stale = () => shownBytes(layout) - projectBytes;
    while (layout.baseRound === 1 && round < 50) {
      round++;
      const files = [main, lib, churn(round), churn(round - 1)];
      layout = nextLayout(layout, project(round, files));
      if (layout.baseRound === 1) {
        expect(layout.later.at(-1)?.written.map((f) => f.content)).toEqual([churn(round).content]);
        expect(stale()).toBeLessThanOrEqual(STALE_SHARE * projectBytes);
      }
    }
    // It grew to several rounds before starting afresh, and afresh shows every file once.
    expect(round).toBeGreaterThan(4);
    expect(layout.baseRound).toBe(round);
    expect(layout.later).toEqual([]);
    expect(layout.base.map((f) => f.path).sort()).toEqual([
      "Dockerfile",
      "even.py",
      "lib.py",
      "main.py",
      "odd.py",
    ]);
  });

  it("shows a file fixed round after round twice at most: the last round goes when all it wrote is written again", () => {
    let layout = nextLayout(undefined, project(1, [main, lib]));
    for (let round = 2; round <= 6; round++) {
      layout = nextLayout(layout, project(round, [{ ...main, content: `print(${round})\n` }, lib]));
      expect(layout.baseRound).toBe(1);
      expect(layout.later).toEqual([
        { round, written: [{ path: "main.py", content: `print(${round})\n` }], deleted: [] },
      ]);
    }
    // A round that also wrote another file, still current, stays; the new round follows it.
    const util = { path: "util.py", content: "def f(): pass\n" };
    layout = nextLayout(layout, project(7, [{ ...main, content: "print(7)\n" }, lib, util]));
    layout = nextLayout(layout, project(8, [{ ...main, content: "print(8)\n" }, lib, util]));
    expect(layout.later.map((r) => r.round)).toEqual([7, 8]);
  });

  it("keeps a round that deleted files, so each deletion stays in the round that made it", () => {
    const old = { path: "old.py", content: "print('old')\n" };
    const old2 = { path: "old2.py", content: "print('old2')\n" };
    const first = nextLayout(undefined, project(1, [main, lib, old, old2]));
    // Round 2 only deletes; round 3 writes another file.
    const second = nextLayout(first, project(2, [main, lib, old2]));
    const util = { path: "util.py", content: "def f(): pass\n" };
    const third = nextLayout(second, project(3, [main, lib, old2, util]));
    expect(third.later).toEqual([
      { round: 2, written: [], deleted: ["old.py"] },
      { round: 3, written: [util], deleted: [] },
    ]);
    // A round that rewrote main.py and deleted old2.py stays when main.py is rewritten again.
    const fourth = nextLayout(third, project(4, [{ ...main, content: "print(4)\n" }, lib, util]));
    const fifth = nextLayout(fourth, project(5, [{ ...main, content: "print(5)\n" }, lib, util]));
    expect(fifth.later.map((r) => [r.round, r.deleted])).toEqual([
      [2, ["old.py"]],
      [3, []],
      [4, ["old2.py"]],
      [5, []],
    ]);
    // Deleting a file a kept round wrote is a deletion of its own round.
    const sixth = nextLayout(fifth, project(6, [{ ...main, content: "print(5)\n" }, lib]));
    expect(sixth.later.at(-1)).toEqual({ round: 6, written: [], deleted: ["util.py"] });
  });

  it("starts afresh when a Dockerfile appears where the layout began without one", () => {
    const first = nextLayout(undefined, { dockerfile: "", files: [main, lib], iteration: 1 });
    const second = nextLayout(first, project(2, [main, lib]));
    expect(second.later).toEqual([]);
    expect(second.base.map((f) => f.path)).toContain("Dockerfile");
  });

  it("starts afresh for a round that is not after the last one (the same round validated again)", () => {
    const first = nextLayout(undefined, project(1, [main, lib]));
    const second = nextLayout(first, project(2, [{ ...main, content: "print(2)\n" }, lib]));
    const again = nextLayout(second, project(2, [{ ...main, content: "print(2)\n" }, lib]));
    expect(again.later).toEqual([]);
    expect(again.baseRound).toBe(2);
  });

  it("starts afresh when the copies would not fit the prompt's budget", () => {
    const data = { path: "data.py", content: "y".repeat(940) };
    const fixed = { ...main, content: "print('round 2')\n" };
    // The project fits, but not with main.py's first copy beside its second.
    const budget = shownBytes(freshLayout(project(2, [fixed, lib, data]))) + 10;
    const first = nextLayout(undefined, project(1, [main, lib, data]), budget);
    const second = nextLayout(first, project(2, [fixed, lib, data]), budget);
    expect(second.later).toEqual([]);
    expect(second).toEqual(freshLayout(project(2, [fixed, lib, data])));
    // With room for both, the copy is appended.
    expect(nextLayout(first, project(2, [fixed, lib, data]), budget + 100).later).toHaveLength(1);
  });
});
