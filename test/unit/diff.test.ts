import { describe, expect, it } from "vitest";
import { diffRows, diffStats, lineDiff, splitLines } from "../../src/web/diff.js";

const show = (before: string | null, after: string | null) =>
  lineDiff(before, after).ops.map((o) => `${o.op}${o.text}`);

describe("the line diff shared by the page and the report", () => {
  it("marks a changed line as removed and added, keeping the lines around it", () => {
    expect(show("a\nb\nc\n", "a\nB\nc\n")).toEqual([" a", "-b", "+B", " c"]);
  });

  it("shows a created file as all added and a deleted one as all removed", () => {
    expect(show(null, "x\ny\n")).toEqual(["+x", "+y"]);
    expect(show("x\n", null)).toEqual(["-x"]);
    expect(show("", "")).toEqual([]);
  });

  it("finds the longest common lines, not just the common ends", () => {
    const ops = lineDiff("1\n2\n3\n4\n5\n", "0\n1\n3\n4\n6\n5\n").ops;
    expect(diffStats(ops)).toEqual({ added: 2, removed: 1 });
    expect(ops.filter((o) => o.op === " ").map((o) => o.text)).toEqual(["1", "3", "4", "5"]);
  });

  it("a final newline makes no empty last line", () => {
    expect(splitLines("a\n")).toEqual(["a"]);
    expect(splitLines("a\n\n")).toEqual(["a", ""]);
  });

  it("folds long unchanged stretches, keeping three lines of context", () => {
    const before = Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n");
    const after = before.replace("line 25", "LINE 25");
    const rows = diffRows(lineDiff(before, after).ops);
    expect(rows[0]).toEqual({ op: "skip", count: 22 });
    expect(rows.filter((r) => r.op !== "skip")).toHaveLength(8);
    expect(rows.at(-1)).toEqual({ op: "skip", count: 21 });
  });

  it("stays cheap on a small edit of a long file, and gives up on a huge rewrite", () => {
    const long = Array.from({ length: 100_000 }, (_, i) => `${i}`).join("\n");
    expect(diffStats(lineDiff(long, `${long}\nmore`).ops)).toEqual({ added: 1, removed: 0 });
    const other = Array.from({ length: 3000 }, (_, i) => `other ${i}`).join("\n");
    const mine = Array.from({ length: 3000 }, (_, i) => `mine ${i}`).join("\n");
    expect(lineDiff(mine, other)).toEqual({ ops: [], tooLarge: true });
  });

  it("caps the rows shown and counts the rest", () => {
    const after = Array.from({ length: 5000 }, (_, i) => `${i}`).join("\n");
    const rows = diffRows(lineDiff(null, after).ops, 3, 100);
    expect(rows).toHaveLength(101);
    expect(rows.at(-1)).toEqual({ op: "skip", count: 4900 });
  });
});
