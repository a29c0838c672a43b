import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { MAX_RECORDED_BYTES } from "../../src/workspace/changes.js";
import { newFolder } from "../helpers/fakes.js";
import { tempDir } from "../helpers/tmp.js";

const none = { refused: [], notes: [], edits: [], maxFileBytes: 2 ** 20 };

it("records each round's changes: created, modified, deleted, and large contents as truncated", async () => {
  const folder = newFolder(join(tempDir(), "run"), ["sk-secret-123456"]);
  folder.init();
  await folder.applyChanges(
    {
      dockerfile: "FROM busybox\n",
      files: [
        { path: "a.txt", content: "one\n" },
        { path: "gone.txt", content: "x" },
      ],
      delete: [],
      ...none,
    },
    1,
  );
  const record = (n: number) =>
    JSON.parse(readFileSync(join(folder.dir, `iterations/0${n}/changes.json`), "utf8"));
  expect(record(1)).toEqual([
    { path: "Dockerfile", before: null, after: "FROM busybox\n" },
    { path: "a.txt", before: null, after: "one\n" },
    { path: "gone.txt", before: null, after: "x" },
  ]);
  const big = "y".repeat(MAX_RECORDED_BYTES + 1);
  await folder.applyChanges(
    {
      dockerfile: null,
      files: [
        { path: "a.txt", content: "two sk-secret-123456\n" },
        { path: "big.txt", content: big },
      ],
      delete: ["gone.txt"],
      ...none,
    },
    2,
  );
  expect(record(2)).toEqual([
    { path: "a.txt", before: "one\n", after: "two [secret]\n" },
    { path: "big.txt", before: null, after: null, truncated: true },
    { path: "gone.txt", before: "x", after: null },
  ]);
});

it("records a file an edit changed, before and after", async () => {
  const folder = newFolder(join(tempDir(), "run"));
  folder.init();
  await folder.applyChanges(
    { dockerfile: null, files: [{ path: "a.py", content: "x = 1\ny = 2\n" }], delete: [], ...none },
    1,
  );
  await folder.applyChanges(
    {
      dockerfile: null,
      files: [],
      delete: [],
      ...none,
      edits: [{ path: "a.py", search: "y = 2", replace: "y = 3" }],
    },
    2,
  );
  const record = JSON.parse(readFileSync(join(folder.dir, "iterations/02/changes.json"), "utf8"));
  expect(record).toEqual([{ path: "a.py", before: "x = 1\ny = 2\n", after: "x = 1\ny = 3\n" }]);
});
