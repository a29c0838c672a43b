import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Changes } from "../../src/core/types.js";
import { applyChanges, snapshot } from "../../src/workspace/workspace.js";
import { tempDir } from "../helpers/tmp.js";

function changes(partial: Partial<Changes>): Changes {
  return {
    dockerfile: null,
    files: [],
    edits: [],
    maxFileBytes: 2 ** 20,
    delete: [],
    refused: [],
    notes: [],
    ...partial,
  };
}

describe("applyChanges", () => {
  it("writes the Dockerfile and nested files, creating folders as needed", async () => {
    const root = join(tempDir(), "workspace"); // does not exist yet
    const report = await applyChanges(
      root,
      changes({
        dockerfile: "FROM alpine\n",
        files: [
          { path: "README.md", content: "# plan\n" },
          { path: "src/pkg/deep/mod.py", content: "x = 1\n" },
          { path: "src/pkg/__init__.py", content: "" },
        ],
      }),
    );
    expect(readFileSync(join(root, "Dockerfile"), "utf8")).toBe("FROM alpine\n");
    expect(readFileSync(join(root, "src/pkg/deep/mod.py"), "utf8")).toBe("x = 1\n");
    expect(readFileSync(join(root, "src/pkg/__init__.py"), "utf8")).toBe("");
    expect(report).toEqual({
      written: ["README.md", "src/pkg/deep/mod.py", "src/pkg/__init__.py"],
      deleted: [],
      refused: [],
      dockerfileChanged: true,
      notes: [],
    });
  });

  it("replaces existing files whole and leaves the Dockerfile alone when none is sent", async () => {
    const root = tempDir({ Dockerfile: "FROM old\n", "app.py": "old content that is longer\n" });
    const report = await applyChanges(root, changes({ files: [{ path: "app.py", content: "new\n" }] }));
    expect(readFileSync(join(root, "app.py"), "utf8")).toBe("new\n");
    expect(readFileSync(join(root, "Dockerfile"), "utf8")).toBe("FROM old\n");
    expect(report.dockerfileChanged).toBe(false);
  });

  it("carries the refusals and notes of normalisation into its report", async () => {
    const root = tempDir();
    const report = await applyChanges(
      root,
      changes({
        refused: [{ path: "../x", reason: "escapes the workspace" }],
        notes: ["a.py came more than once; the last one was kept"],
        files: [{ path: "a.py", content: "" }],
      }),
    );
    expect(report.refused).toEqual([{ path: "../x", reason: "escapes the workspace" }]);
    expect(report.notes).toEqual(["a.py came more than once; the last one was kept"]);
  });

  it("refuses to write through a symbolic link to a folder outside the workspace", async () => {
    const outside = tempDir();
    const root = tempDir({ "ok.txt": "ok" });
    symlinkSync(outside, join(root, "link"), "dir");
    const report = await applyChanges(
      root,
      changes({
        files: [
          { path: "link/pwned.txt", content: "pwned" },
          { path: "link/sub/deeper.txt", content: "pwned" },
          { path: "fine.txt", content: "fine" },
        ],
      }),
    );
    expect(readdirSync(outside)).toEqual([]);
    expect(report.refused).toEqual([
      { path: "link/pwned.txt", reason: "passes through a symbolic link (link)" },
      { path: "link/sub/deeper.txt", reason: "passes through a symbolic link (link)" },
    ]);
    expect(report.written).toEqual(["fine.txt"]);
  });

  it("refuses to overwrite a file that is a symbolic link to a file outside", async () => {
    const outside = tempDir({ "target.txt": "precious" });
    const root = tempDir();
    symlinkSync(join(outside, "target.txt"), join(root, "config.txt"));
    symlinkSync(join(outside, "target.txt"), join(root, "Dockerfile"));
    const report = await applyChanges(
      root,
      changes({ dockerfile: "FROM evil\n", files: [{ path: "config.txt", content: "overwritten" }] }),
    );
    expect(readFileSync(join(outside, "target.txt"), "utf8")).toBe("precious");
    expect(report.refused).toEqual([
      { path: "Dockerfile", reason: "is a symbolic link" },
      { path: "config.txt", reason: "is a symbolic link" },
    ]);
    expect(report.dockerfileChanged).toBe(false);
    expect(report.written).toEqual([]);
  });

  it("refuses to delete through a symbolic link", async () => {
    const outside = tempDir({ "keep.txt": "keep" });
    const root = tempDir();
    symlinkSync(outside, join(root, "link"), "dir");
    const report = await applyChanges(root, changes({ delete: ["link/keep.txt"] }));
    expect(existsSync(join(outside, "keep.txt"))).toBe(true);
    expect(report.deleted).toEqual([]);
    expect(report.refused).toEqual([
      { path: "link/keep.txt", reason: "passes through a symbolic link (link)" },
    ]);
  });

  it("refuses a path whose parent is a file, and leaves that file alone", async () => {
    const root = tempDir({ "app.py": "print(1)\n" });
    const report = await applyChanges(root, changes({ files: [{ path: "app.py/inner.py", content: "x" }] }));
    expect(report.refused).toEqual([
      { path: "app.py/inner.py", reason: "needs app.py to be a folder, but it is a file" },
    ]);
    expect(readFileSync(join(root, "app.py"), "utf8")).toBe("print(1)\n");
  });

  it("refuses to write a file where a folder is", async () => {
    const root = tempDir({ "src/main.py": "x" });
    const report = await applyChanges(root, changes({ files: [{ path: "src", content: "x" }] }));
    expect(report.refused).toEqual([{ path: "src", reason: "is a folder" }]);
    expect(readFileSync(join(root, "src/main.py"), "utf8")).toBe("x");
  });

  it("deletes files that exist and notes those that do not", async () => {
    const root = tempDir({ "old.py": "x", "src/stale.py": "y", "src/keep.py": "z" });
    const report = await applyChanges(root, changes({ delete: ["old.py", "src/stale.py", "ghost.py"] }));
    expect(existsSync(join(root, "old.py"))).toBe(false);
    expect(existsSync(join(root, "src/stale.py"))).toBe(false);
    expect(existsSync(join(root, "src/keep.py"))).toBe(true);
    expect(report.deleted).toEqual(["old.py", "src/stale.py"]);
    expect(report.notes).toEqual(["ghost.py was to be deleted but does not exist"]);
    expect(report.refused).toEqual([]);
  });

  it("deletion of a file under a missing folder is a note, not an error", async () => {
    const root = tempDir();
    const report = await applyChanges(root, changes({ delete: ["nope/gone.py"] }));
    expect(report.notes).toEqual(["nope/gone.py was to be deleted but does not exist"]);
  });
});

describe("applyChanges with edits", () => {
  const edit = (path: string, search: string, replace: string) => ({ path, search, replace });

  it("applies a one-line fix in place and leaves the rest of the file byte for byte", async () => {
    const big = `${"# filler line\n".repeat(3000)}print("sum=" + str(2 - 3))\n${"# more\n".repeat(100)}`;
    const root = tempDir({ "main.py": big });
    const report = await applyChanges(root, changes({ edits: [edit("main.py", "2 - 3", "2 + 3")] }));
    expect(readFileSync(join(root, "main.py"), "utf8")).toBe(big.replace("2 - 3", "2 + 3"));
    expect(report).toEqual({
      written: ["main.py"],
      deleted: [],
      refused: [],
      dockerfileChanged: false,
      notes: [],
    });
  });

  it("edits apply in order, after files: an edit may change what a file or an earlier edit of the reply wrote", async () => {
    const root = tempDir();
    const report = await applyChanges(
      root,
      changes({
        files: [{ path: "app.py", content: "x = 1\n" }],
        edits: [edit("app.py", "x = 1", "x = 2\ny = 3"), edit("app.py", "y = 3", "y = 4")],
      }),
    );
    expect(readFileSync(join(root, "app.py"), "utf8")).toBe("x = 2\ny = 4\n");
    expect(report.written).toEqual(["app.py"]);
    expect(report.refused).toEqual([]);
  });

  it("edits apply before deletions: a file edited and deleted is gone, the edit not refused", async () => {
    const root = tempDir({ "a.py": "a\n", "b.py": "b\n" });
    const report = await applyChanges(
      root,
      changes({ edits: [edit("a.py", "a", "A"), edit("b.py", "b", "B")], delete: ["b.py"] }),
    );
    expect(readFileSync(join(root, "a.py"), "utf8")).toBe("A\n");
    expect(existsSync(join(root, "b.py"))).toBe(false);
    expect(report.deleted).toEqual(["b.py"]);
    expect(report.refused).toEqual([]);
  });

  it("an edit to the Dockerfile changes it and says so", async () => {
    const root = tempDir({ Dockerfile: 'FROM python:3.11\nCMD ["python", "app.py"]\n' });
    const report = await applyChanges(root, changes({ edits: [edit("Dockerfile", "3.11", "3.12")] }));
    expect(readFileSync(join(root, "Dockerfile"), "utf8")).toBe(
      'FROM python:3.12\nCMD ["python", "app.py"]\n',
    );
    expect(report.dockerfileChanged).toBe(true);
    expect(report.written).toEqual([]);
  });

  it("a failed edit is refused with its reason, not applied, and the reply's other changes still apply", async () => {
    const root = tempDir({ "app.py": "x = 1\nx = 1\n", "ok.py": "old\n" });
    const report = await applyChanges(
      root,
      changes({
        edits: [
          edit("app.py", "x = 1", "x = 2"),
          edit("missing.py", "a", "b"),
          edit("app.py", "nowhere", "b"),
          edit("ok.py", "old", "new"),
        ],
      }),
    );
    expect(readFileSync(join(root, "app.py"), "utf8")).toBe("x = 1\nx = 1\n");
    expect(readFileSync(join(root, "ok.py"), "utf8")).toBe("new\n");
    expect(existsSync(join(root, "missing.py"))).toBe(false);
    expect(report.written).toEqual(["ok.py"]);
    expect(report.refused).toEqual([
      {
        path: "app.py",
        reason:
          "edit 1 refused: the search text occurs twice in the file; it must occur exactly once (include more of the lines around it)",
      },
      {
        path: "missing.py",
        reason: "edit 2 refused: the file does not exist; send a new file whole in files",
      },
      {
        path: "app.py",
        reason: expect.stringMatching(/^edit 3 refused: the search text occurs 0 times in the file/),
      },
    ]);
  });

  it("a loose match (trailing whitespace, CRLF) applies and is noted", async () => {
    const root = tempDir({ "run.bat": "echo one  \r\necho two\r\n" });
    const report = await applyChanges(root, changes({ edits: [edit("run.bat", "echo one\n", "echo 1\n")] }));
    expect(readFileSync(join(root, "run.bat"), "utf8")).toBe("echo 1\r\necho two\r\n");
    expect(report.notes).toEqual([
      "edit 1 to run.bat matched only with trailing whitespace and line endings ignored; applied there",
    ]);
  });

  it("refuses to edit through a symbolic link, leaving the target alone", async () => {
    const outside = tempDir({ "target.txt": "secret = 1\n" });
    const root = tempDir();
    symlinkSync(join(outside, "target.txt"), join(root, "config.txt"));
    const report = await applyChanges(
      root,
      changes({ edits: [edit("config.txt", "secret = 1", "secret = 2")] }),
    );
    expect(readFileSync(join(outside, "target.txt"), "utf8")).toBe("secret = 1\n");
    expect(report.refused).toEqual([
      { path: "config.txt", reason: "edit 1 refused: the path is a symbolic link" },
    ]);
  });

  it("refuses to edit a binary file or a folder", async () => {
    const root = tempDir({ "sub/x.txt": "" });
    writeFileSync(join(root, "blob.bin"), Buffer.from([0x61, 0, 0x62]));
    const report = await applyChanges(
      root,
      changes({ edits: [edit("blob.bin", "a", "c"), edit("sub", "x", "y")] }),
    );
    expect(report.refused).toEqual([
      { path: "blob.bin", reason: "edit 1 refused: the file is binary; edits change text files only" },
      { path: "sub", reason: "edit 2 refused: the path is a folder" },
    ]);
  });

  it("refuses an edit that would grow a file past the size limit", async () => {
    const root = tempDir({ "a.txt": "x\n" });
    const report = await applyChanges(
      root,
      changes({ maxFileBytes: 10, edits: [edit("a.txt", "x", "0123456789")] }),
    );
    expect(readFileSync(join(root, "a.txt"), "utf8")).toBe("x\n");
    expect(report.refused).toEqual([
      { path: "a.txt", reason: "edit 1 refused: the file would grow to 11 bytes; the limit is 10" },
    ]);
  });
});

describe("snapshot", () => {
  it("returns the files sorted by path, with the Dockerfile apart", async () => {
    const root = tempDir({
      "z.py": "z",
      Dockerfile: "FROM alpine\n",
      "b/inner.txt": "inner",
      "a.txt": "a",
      "b/a/deep.txt": "deep",
      "docker/Dockerfile": "FROM node\n",
    });
    expect(await snapshot(root)).toEqual({
      dockerfile: "FROM alpine\n",
      files: [
        { path: "a.txt", content: "a" },
        { path: "b/a/deep.txt", content: "deep" },
        { path: "b/inner.txt", content: "inner" },
        { path: "docker/Dockerfile", content: "FROM node\n" },
        { path: "z.py", content: "z" },
      ],
    });
  });

  it("gives an empty Dockerfile when there is none", async () => {
    const root = tempDir({ "a.txt": "a" });
    expect((await snapshot(root)).dockerfile).toBe("");
  });

  it("marks binary files instead of showing their bytes", async () => {
    const root = tempDir({ "text.txt": "héllo\n" });
    writeFileSync(join(root, "image.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
    const snap = await snapshot(root);
    expect(snap.files).toEqual([
      { path: "image.png", content: "[binary file, 7 bytes]" },
      { path: "text.txt", content: "héllo\n" },
    ]);
  });

  it("does not follow symbolic links out of the workspace", async () => {
    const outside = tempDir({ "secret.txt": "do not show" });
    const root = tempDir({ "a.txt": "a" });
    symlinkSync(join(outside, "secret.txt"), join(root, "leak.txt"));
    symlinkSync(outside, join(root, "leakdir"), "dir");
    const snap = await snapshot(root);
    expect(snap.files).toEqual([{ path: "a.txt", content: "a" }]);
  });

  it("reads back what applyChanges wrote", async () => {
    const root = tempDir();
    mkdirSync(join(root, "empty-folder"));
    await applyChanges(
      root,
      changes({
        dockerfile: "FROM alpine\n",
        files: [
          { path: "src/b.py", content: "b" },
          { path: "src/a.py", content: "a" },
        ],
      }),
    );
    expect(await snapshot(root)).toEqual({
      dockerfile: "FROM alpine\n",
      files: [
        { path: "src/a.py", content: "a" },
        { path: "src/b.py", content: "b" },
      ],
    });
  });
});
