import { execFileSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyAndHash, hashFiles } from "../../src/workspace/source-copy.js";
import type { SourceFile } from "../../src/workspace/source-list.js";
import { tempDir } from "../helpers/tmp.js";

/** git's own blob id of a file's bytes, no filter applied. */
function gitBlobId(path: string, format: "sha1" | "sha256" = "sha1"): string {
  const scratch = tempDir();
  execFileSync("git", ["init", "-q", "--bare", `--object-format=${format}`, scratch]);
  return execFileSync("git", ["hash-object", "--no-filters", path], {
    env: { ...process.env, GIT_DIR: scratch },
  })
    .toString()
    .trim();
}

const LARGE = Buffer.alloc(9 * 2 ** 20 + 17, "0123456789abcdef\n");

/** A folder of every kind of file the copy must get right. */
function project(): { dir: string; files: Array<SourceFile & { from: string }> } {
  const dir = tempDir();
  mkdirSync(join(dir, "deep/er"), { recursive: true });
  writeFileSync(join(dir, "empty"), "");
  writeFileSync(join(dir, "binary.bin"), Buffer.from([0, 255, 10, 13, 0, 1]));
  writeFileSync(join(dir, "deep/er/large.txt"), LARGE);
  writeFileSync(join(dir, "run.sh"), "#!/bin/sh\n");
  chmodSync(join(dir, "run.sh"), 0o750);
  writeFileSync(join(dir, "locked.txt"), "read only\n");
  chmodSync(join(dir, "locked.txt"), 0o400);
  const files: Array<SourceFile & { from: string }> = [
    { path: "empty", from: "empty", kind: "file", size: 0 },
    { path: "binary.bin", from: "binary.bin", kind: "file", size: 6 },
    { path: "deep/er/large.txt", from: "deep/er/large.txt", kind: "file", size: LARGE.length },
    { path: "run.sh", from: "run.sh", kind: "exec", size: 10 },
    { path: "locked.txt", from: "locked.txt", kind: "file", size: 10 },
    { path: "link", from: "link", kind: "link", size: 11, target: "/etc/passwd" },
  ];
  return { dir, files };
}

describe("the copy into the workspace", () => {
  it("gives git's own blob ids, sha1 and sha256, of small, empty, binary and large files and links", async () => {
    const { dir, files } = project();
    for (const format of ["sha1", "sha256"] as const) {
      const to = tempDir();
      const ids = await copyAndHash(dir, to, files, format, new AbortController().signal);
      for (const f of files.filter((f) => f.kind !== "link")) {
        expect(readFileSync(join(to, f.path)).equals(readFileSync(join(dir, f.path)))).toBe(true);
        expect(ids.get(f.path)).toBe(gitBlobId(join(to, f.path), format));
      }
      const linkText = join(tempDir(), "target");
      writeFileSync(linkText, "/etc/passwd");
      expect(ids.get("link")).toBe(gitBlobId(linkText, format));
      // The workspace as found at the end hashes the same.
      expect(await hashFiles(to, files, format)).toEqual(ids);
    }
  });

  it("makes links as links, and modes 755 or 644 only", async () => {
    const { dir, files } = project();
    const to = tempDir();
    await copyAndHash(dir, to, files, "sha1", new AbortController().signal);
    expect(readlinkSync(join(to, "link"))).toBe("/etc/passwd");
    expect(lstatSync(join(to, "run.sh")).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(to, "locked.txt")).mode & 0o777).toBe(0o644);
    expect(lstatSync(join(to, "empty")).mode & 0o777).toBe(0o644);
  });

  it("never reads through a file swapped for a link since it was listed", async () => {
    const { dir, files } = project();
    const { symlinkSync, rmSync } = await import("node:fs");
    rmSync(join(dir, "binary.bin"));
    symlinkSync("/etc/hostname", join(dir, "binary.bin"));
    await expect(copyAndHash(dir, tempDir(), files, "sha1", new AbortController().signal)).rejects.toThrow(
      /ELOOP|symbolic link/,
    );
  });
});
