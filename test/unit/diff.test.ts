import { describe, expect, it } from "vitest";
import { renderDiff } from "../../src/report/report.js";
import { diffRows, diffStats, fileDiff, lineDiff, patchFiles, splitLines } from "../../src/web/diff.js";

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

describe("one file's change as the page and the report draw it", () => {
  it("says what happened to the file and counts the lines, with a class per row", () => {
    expect(fileDiff({ before: null, after: "a\n" })).toMatchObject({ what: "created", added: 1, removed: 0 });
    expect(fileDiff({ before: "a\n", after: null })).toMatchObject({ what: "deleted", added: 0, removed: 1 });
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const changed = fileDiff({ before: lines.join("\n"), after: [...lines.slice(0, 19), "LAST"].join("\n") });
    expect(changed).toMatchObject({ what: "changed", note: null, added: 1, removed: 1 });
    expect(changed.rows[0]).toEqual({ cls: "skip", text: "… 16 unchanged lines" });
    expect(changed.rows.slice(-2)).toEqual([
      { cls: "del", text: "- line 19" },
      { cls: "add", text: "+ LAST" },
    ]);
  });

  it("shows a note instead of rows for a file too large to keep, or too changed to compare", () => {
    expect(fileDiff({ before: "a", after: "b", truncated: true })).toMatchObject({
      note: "too large to show",
      rows: [],
    });
    const many = (tag: string) => Array.from({ length: 2001 }, (_, i) => `${tag}${i}`).join("\n");
    expect(fileDiff({ before: many("x"), after: many("y") }).note).toBe("too many changed lines to compare");
  });

  it("the report draws it as escaped HTML: the counts, the rows, or the note", () => {
    const html = renderDiff({ path: "<a>.sh", before: "echo 1\n", after: "echo <b>\n" });
    expect(html).toContain('&lt;a&gt;.sh <span class="muted">changed</span> <span class="ok">+1</span>');
    expect(html).toContain('<div class="diff-row add">+ echo &lt;b&gt;</div>');
    const cut = renderDiff({ path: "big.bin", before: null, after: null, truncated: true });
    expect(cut).toBe(
      '<div class="diff"><div class="diff-file">big.bin <span class="muted">changed</span></div><div class="diff-row skip">too large to show</div></div>',
    );
  });
});

describe("patchFiles", () => {
  it("reads a git patch file by file: created, deleted, changed, mode and binary changes", () => {
    const patch = [
      "diff --git a/app.py b/app.py",
      "index 1111111..2222222 100644",
      "--- a/app.py",
      "+++ b/app.py",
      "@@ -1 +1 @@",
      "-print('hi')",
      "+print('hello')",
      "diff --git a/new.txt b/new.txt",
      "new file mode 100644",
      "--- /dev/null",
      "+++ b/new.txt",
      "@@ -0,0 +1 @@",
      "+new",
      "diff --git a/run.sh b/run.sh",
      "old mode 100644",
      "new mode 100755",
      "diff --git a/data.bin b/data.bin",
      "deleted file mode 100644",
      "GIT binary patch",
      "literal 0",
      "HcmV?d00001",
      "",
    ].join("\n");
    const files = patchFiles(patch);
    expect(files.map((f) => [f.path, f.what])).toEqual([
      ["app.py", "changed"],
      ["new.txt", "created"],
      ["run.sh", "changed"],
      ["data.bin", "deleted"],
    ]);
    expect(files[0]?.rows).toEqual([
      { cls: "skip", text: "@@ -1 +1 @@" },
      { cls: "del", text: "-print('hi')" },
      { cls: "add", text: "+print('hello')" },
    ]);
    expect(files[2]?.rows.map((r) => r.text)).toEqual(["old mode 100644", "new mode 100755"]);
    expect(files[3]?.rows).toEqual([{ cls: "skip", text: "binary file changed" }]);
  });
});
