import { describe, expect, it } from "vitest";
import { checkPath, normalizeChanges, type RawChanges, type ReplyLimits } from "../../src/workspace/paths.js";

const limits: ReplyLimits = { maxFiles: 200, maxFileBytes: 1024, maxPathLength: 240 };

function changes(raw: Partial<RawChanges>, overrides: Partial<ReplyLimits> = {}) {
  return normalizeChanges(
    { dockerfile: null, files: null, delete: null, ...raw },
    { ...limits, ...overrides },
  );
}

describe("checkPath refuses paths that leave or endanger the workspace", () => {
  it.each([
    ["../x", "escapes the workspace"],
    ["a/../../x", "escapes the workspace"],
    ["..", "escapes the workspace"],
    ["a\\..\\..\\x", "escapes the workspace"],
    ["/etc/passwd", "is absolute"],
    ["\\etc\\passwd", "is absolute"],
    ["C:\\x", "has a drive letter"],
    ["c:/x", "has a drive letter"],
    ["\\\\server\\share\\x", "is a UNC or network path"],
    ["//server/x", "is a UNC or network path"],
    ["a\0b.py", "contains a NUL byte"],
    ["a\u0001b.py", "contains a control character"],
    ["a\nb.py", "contains a control character"],
    ["a\tb.py", "contains a control character"],
    ["a\u007fb.py", "contains a control character"],
    [".git/config", "points into .git"],
    ["a/.GIT/x", "points into .git"],
    ["./.git/hooks/pre-commit", "points into .git"],
    ["~/.ssh/x", "points into a home folder"],
    ["~root/.bashrc", "points into a home folder"],
    ["~", "points into a home folder"],
    ["src/", "names a folder, not a file"],
    ["src\\", "names a folder, not a file"],
    ["", "is empty"],
    ["   ", "is empty"],
    [".", "names the workspace itself"],
    ["a/..", "names the workspace itself"],
  ])("%j is refused: %s", (raw, reason) => {
    expect(checkPath(raw, limits)).toEqual({ ok: false, reason });
  });

  it("refuses a path longer than maxPathLength, counted in bytes", () => {
    const long = `${"d/".repeat(120)}x.py`; // 244 bytes
    expect(checkPath(long, { maxPathLength: 240 })).toEqual({
      ok: false,
      reason: "is too long (over 240 bytes)",
    });
    // 120 two-byte characters: 120 characters, 240 bytes, plus ".py"
    expect(checkPath(`${"é".repeat(120)}.py`, { maxPathLength: 240 }).ok).toBe(false);
    expect(checkPath(`${"e".repeat(120)}.py`, { maxPathLength: 240 }).ok).toBe(true);
  });

  it("refuses a single name longer than 255 bytes even when the path limit allows it", () => {
    expect(checkPath(`src/${"n".repeat(256)}`, { maxPathLength: 4096 })).toEqual({
      ok: false,
      reason: "has a name longer than 255 bytes",
    });
    expect(checkPath(`src/${"n".repeat(255)}`, { maxPathLength: 4096 }).ok).toBe(true);
  });
});

describe("checkPath repairs harmless slips and keeps ordinary names", () => {
  it.each([
    ["./a.py", "a.py"],
    ["././a.py", "a.py"],
    ["a\\b.py", "a/b.py"],
    [".\\src\\main.py", "src/main.py"],
    ["a/./b/../c.py", "a/c.py"],
    ["a//b.py", "a/b.py"],
    ["  app.py \n", "app.py"],
    ["Dockerfile", "Dockerfile"],
    [".gitignore", ".gitignore"],
    [".github/workflows/ci.yml", ".github/workflows/ci.yml"],
    ["..hidden", "..hidden"],
    ["~notes.txt", "~notes.txt"],
    ["a/b/..c/d.txt", "a/b/..c/d.txt"],
    ["dir with spaces/naïve.py", "dir with spaces/naïve.py"],
  ])("%j is accepted as %j", (raw, path) => {
    expect(checkPath(raw, limits)).toEqual({ ok: true, path });
  });
});

describe("normalizeChanges, per model mistake", () => {
  it("passes a clean reply through unchanged, in the reply's order", () => {
    const result = changes({
      dockerfile: "FROM python:3.12-slim\n",
      files: [
        { path: "README.md", content: "# plan\n" },
        { path: "app.py", content: "print(1)\n" },
      ],
    });
    expect(result).toEqual({
      dockerfile: "FROM python:3.12-slim\n",
      files: [
        { path: "README.md", content: "# plan\n" },
        { path: "app.py", content: "print(1)\n" },
      ],
      edits: [],
      maxFileBytes: 1024,
      delete: [],
      refused: [],
      notes: [],
    });
  });

  it("null files, dockerfile and delete (a verdict that changes nothing) mean no changes", () => {
    expect(changes({})).toEqual({
      dockerfile: null,
      files: [],
      edits: [],
      maxFileBytes: 1024,
      delete: [],
      refused: [],
      notes: [],
    });
  });

  it("bogus path prefixes: ./ and Windows separators are repaired", () => {
    const result = changes({
      files: [
        { path: "./app.py", content: "a" },
        { path: "src\\util.py", content: "b" },
      ],
    });
    expect(result.files.map((f) => f.path)).toEqual(["app.py", "src/util.py"]);
    expect(result.refused).toEqual([]);
  });

  it("paths outside the workspace are refused with the path as the model wrote it", () => {
    const result = changes({
      files: [
        { path: "../evil.sh", content: "rm -rf /" },
        { path: "/etc/passwd", content: "root" },
        { path: "ok.py", content: "" },
      ],
    });
    expect(result.refused).toEqual([
      { path: "../evil.sh", reason: "escapes the workspace" },
      { path: "/etc/passwd", reason: "is absolute" },
    ]);
    expect(result.files).toEqual([{ path: "ok.py", content: "" }]);
  });

  it("duplicate paths: the last one wins, in its place, with a note", () => {
    const result = changes({
      files: [
        { path: "app.py", content: "first" },
        { path: "lib.py", content: "lib" },
        { path: "./app.py", content: "second" },
      ],
    });
    expect(result.files).toEqual([
      { path: "lib.py", content: "lib" },
      { path: "app.py", content: "second" },
    ]);
    expect(result.notes).toEqual(["app.py came more than once; the last one was kept"]);
  });

  it("empty files are allowed (an __init__.py)", () => {
    const result = changes({ files: [{ path: "pkg/__init__.py", content: "" }] });
    expect(result.files).toEqual([{ path: "pkg/__init__.py", content: "" }]);
    expect(result.refused).toEqual([]);
  });

  it.each([
    ["null", null],
    ["empty", ""],
    ["blank", "  \n"],
  ])("a Dockerfile sent as a file is used as the Dockerfile when the field is %s", (_name, field) => {
    const result = changes({
      dockerfile: field,
      files: [
        { path: "./Dockerfile", content: "FROM alpine\n" },
        { path: "main.sh", content: "echo hi" },
      ],
    });
    expect(result.dockerfile).toBe("FROM alpine\n");
    expect(result.files).toEqual([{ path: "main.sh", content: "echo hi" }]);
    expect(result.notes).toEqual(["the Dockerfile came as a file; used it as the Dockerfile"]);
  });

  it("a Dockerfile sent both as the field and as a file: the field wins, with a note", () => {
    const result = changes({
      dockerfile: "FROM python:3.12\n",
      files: [{ path: "Dockerfile", content: "FROM alpine\n" }],
    });
    expect(result.dockerfile).toBe("FROM python:3.12\n");
    expect(result.files).toEqual([]);
    expect(result.notes).toEqual([
      "a Dockerfile came both as the dockerfile field and as a file; the field was used",
    ]);
  });

  it("the same Dockerfile sent both ways is not worth a note", () => {
    const result = changes({
      dockerfile: "FROM alpine\n",
      files: [{ path: "Dockerfile", content: "FROM alpine\n" }],
    });
    expect(result.dockerfile).toBe("FROM alpine\n");
    expect(result.notes).toEqual([]);
  });

  it("a lowercase dockerfile is the Dockerfile (it is, on a case-insensitive disk)", () => {
    const result = normalizeChanges(
      { dockerfile: null, files: [{ path: "dockerfile", content: "FROM x\n" }], delete: ["DOCKERFILE"] },
      { maxFiles: 10, maxFileBytes: 1000, maxPathLength: 240 },
    );
    expect(result.dockerfile).toBe("FROM x\n");
    expect(result.files).toEqual([]);
    expect(result.refused.map((r) => r.path)).toEqual(["DOCKERFILE"]);
  });

  it("a Dockerfile sent twice as a file: the last one wins, like any duplicate", () => {
    const result = changes({
      dockerfile: null,
      files: [
        { path: "Dockerfile", content: "FROM alpine:3.19\n" },
        { path: "Dockerfile", content: "FROM alpine:3.20\n" },
      ],
    });
    expect(result.dockerfile).toBe("FROM alpine:3.20\n");
    expect(result.notes).toEqual([
      "the Dockerfile came as a file; used it as the Dockerfile",
      "Dockerfile came more than once; the last one was kept",
    ]);
  });

  it("a Dockerfile in a subfolder is an ordinary file", () => {
    const result = changes({
      dockerfile: "FROM alpine\n",
      files: [{ path: "docker/Dockerfile", content: "FROM node\n" }],
    });
    expect(result.dockerfile).toBe("FROM alpine\n");
    expect(result.files).toEqual([{ path: "docker/Dockerfile", content: "FROM node\n" }]);
  });

  it("too many files: those past maxFiles are refused, rewrites of kept ones still apply", () => {
    const result = changes(
      {
        dockerfile: "FROM alpine\n",
        files: [
          { path: "a.py", content: "1" },
          { path: "Dockerfile", content: "FROM alpine\n" }, // not counted as a file
          { path: "b.py", content: "2" },
          { path: "c.py", content: "3" },
          { path: "a.py", content: "1 again" },
        ],
      },
      { maxFiles: 2 },
    );
    expect(result.files).toEqual([
      { path: "b.py", content: "2" },
      { path: "a.py", content: "1 again" },
    ]);
    expect(result.refused).toEqual([{ path: "c.py", reason: "is beyond the 2 files one reply may write" }]);
  });

  it("too large files are refused, counted in bytes; a file exactly at the limit is kept", () => {
    const result = changes(
      {
        files: [
          { path: "big.txt", content: "x".repeat(11) },
          { path: "exact.txt", content: "x".repeat(10) },
          { path: "wide.txt", content: "é".repeat(6) }, // 6 characters, 12 bytes
        ],
      },
      { maxFileBytes: 10 },
    );
    expect(result.files.map((f) => f.path)).toEqual(["exact.txt"]);
    expect(result.refused).toEqual([
      { path: "big.txt", reason: "is too large (11 bytes; the limit is 10)" },
      { path: "wide.txt", reason: "is too large (12 bytes; the limit is 10)" },
    ]);
  });

  it("a too large Dockerfile is refused and the old one kept", () => {
    const result = changes({ dockerfile: `FROM alpine\n${"#".repeat(50)}` }, { maxFileBytes: 20 });
    expect(result.dockerfile).toBeNull();
    expect(result.refused).toEqual([{ path: "Dockerfile", reason: "is too large" }]);
  });

  it("deleting the Dockerfile is refused (a new one must be sent instead)", () => {
    const result = changes({ delete: ["Dockerfile", "./Dockerfile", "old.py"] });
    expect(result.delete).toEqual(["old.py"]);
    expect(result.refused).toHaveLength(2);
    for (const r of result.refused) expect(r.reason).toMatch(/cannot be deleted/);
    expect(result.refused.map((r) => r.path)).toEqual(["Dockerfile", "./Dockerfile"]);
  });

  it("a path both written and deleted is written, with a note", () => {
    const result = changes({
      files: [{ path: "app.py", content: "new" }],
      delete: ["./app.py", "stale.py"],
    });
    expect(result.files).toEqual([{ path: "app.py", content: "new" }]);
    expect(result.delete).toEqual(["stale.py"]);
    expect(result.notes).toEqual(["app.py was both written and deleted; it was written"]);
  });

  it("deletions are checked like writes and listed once", () => {
    const result = changes({ delete: ["../outside", "a.py", "./a.py", "a\\b.py"] });
    expect(result.delete).toEqual(["a.py", "a/b.py"]);
    expect(result.refused).toEqual([{ path: "../outside", reason: "escapes the workspace" }]);
  });
});

describe("normalizeChanges: edits", () => {
  const edit = (path: string, search = "a", replace = "b") => ({ path, search, replace });

  it("keeps edits in the reply's order, paths in normal form, the Dockerfile under its one name", () => {
    const result = changes({
      edits: [edit("./src\\app.py"), edit("dockerfile", "3.11", "3.12"), edit("src/app.py")],
    });
    expect(result.edits).toEqual([
      edit("src/app.py"),
      edit("Dockerfile", "3.11", "3.12"),
      edit("src/app.py"),
    ]);
    expect(result.refused).toEqual([]);
  });

  it("an edit to a path outside the workspace is refused like a file, numbered", () => {
    const result = changes({ edits: [edit("app.py"), edit("../etc/passwd"), edit(".git/config")] });
    expect(result.edits).toEqual([edit("app.py")]);
    expect(result.refused).toEqual([
      { path: "../etc/passwd", reason: "edit 2 refused: the path escapes the workspace" },
      { path: ".git/config", reason: "edit 3 refused: the path points into .git" },
    ]);
  });

  it("an empty search text is refused before touching the disk", () => {
    const result = changes({ edits: [edit("app.py", "", "print(1)\n")] });
    expect(result.edits).toEqual([]);
    expect(result.refused).toEqual([
      {
        path: "app.py",
        reason: "edit 1 refused: the search text is empty; send the whole file in files instead",
      },
    ]);
  });

  it("a replacement over the file size limit is refused", () => {
    const result = changes({ edits: [edit("app.py", "a", "x".repeat(2000))] });
    expect(result.edits).toEqual([]);
    expect(result.refused[0]?.reason).toBe(
      "edit 1 refused: the replacement is too large (the limit is 1024 bytes)",
    );
  });

  it("a file both edited and deleted is deleted (edits apply first), and a note says so", () => {
    const result = changes({ edits: [edit("old.py")], delete: ["old.py"] });
    expect(result.delete).toEqual(["old.py"]);
    expect(result.notes).toEqual([
      "old.py was both edited and deleted; edits apply first, so it was deleted",
    ]);
  });

  it("answers recorded before edits existed (no edits key) mean no edits", () => {
    expect(normalizeChanges({ dockerfile: null, files: null, delete: null }, limits).edits).toEqual([]);
  });
});
