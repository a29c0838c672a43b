import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserProject } from "../../src/workspace/source.js";
import {
  CONTEXT_FILE_BYTES,
  contextFiles,
  FOLDER_FILES,
  formatMap,
  MAP_BYTES,
  taskTerms,
} from "../../src/workspace/source-map.js";
import { tempDir } from "../helpers/tmp.js";

const manyFiles = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ path: `src/pkg${i % 50}/mod${i % 9}/file${i}.txt`, size: 400 + i }));

describe("the map of a large project", () => {
  it("stays within its bound: folders that share the task's words open, the rest are one line with their count and size", () => {
    const files = [
      ...manyFiles(3000),
      { path: "src/pkg7/mod3/deep/formatter.py", size: 1200 },
      { path: "README.md", size: 90 },
    ];
    const map = formatMap(files, "fix the greeting the formatter prints");
    expect(Buffer.byteLength(map)).toBeLessThanOrEqual(MAP_BYTES + 200);
    expect(map.split("\n")[0]).toBe("3002 files, 5.4 MiB");
    // The path to the file whose name is the task's word is open, down to the file.
    expect(map).toMatch(/\n {2}pkg7\/\n(.*\n)* {4}mod3\/\n(.*\n)* {6}deep\/\n {8}formatter\.py \(1\.2 KiB\)/);
    expect(map).toMatch(/\n {4}mod\d\/ \(\d+ files, [\d.]+ KiB\)/);
    expect(map).toContain("README.md (90 B)");
  });

  it("a folder lists at most FOLDER_FILES files, then counts the rest", () => {
    const files = Array.from({ length: FOLDER_FILES + 25 }, (_, i) => ({
      path: `data/row${i}.csv`,
      size: 10,
    }));
    const map = formatMap(files, "");
    expect(map).toContain("… and 25 more files (250 B)");
    expect(map.split("\n").filter((l) => l.includes(".csv"))).toHaveLength(FOLDER_FILES);
  });

  it("takes the task's words worth looking for, longest first, common words left out", () => {
    expect(taskTerms("Fix the greeting that report_card prints: it should say hello")).toEqual([
      "report_card",
      "greeting",
      "hello",
      "say",
    ]);
  });
});

describe("the files most likely to matter", () => {
  it("manifests and the README first, then files whose names or contents share the task's words; never secrets, lockfiles, binaries or the too large", async () => {
    const root = tempDir({
      "package.json": '{"name": "app"}\n',
      "README.md": "# app\n",
      "src/report.js": "export function render() {}\n",
      "src/util.js": "// formats the greeting\nexport const greeting = 'hello';\n",
      "src/other.js": "export const x = 1;\n",
      ".env": "GREETING_TOKEN=greeting\n",
      "package-lock.json": '{"greeting": true}\n',
      "big/greeting.txt": "greeting ".repeat(CONTEXT_FILE_BYTES / 9 + 10),
      "img/greeting.bin": "\0\0greeting",
    });
    const files = [
      "package.json",
      "README.md",
      "src/report.js",
      "src/util.js",
      "src/other.js",
      ".env",
      "package-lock.json",
      "big/greeting.txt",
      "img/greeting.bin",
    ].map((path) => ({ path, size: path === "big/greeting.txt" ? CONTEXT_FILE_BYTES + 90 : 30 }));
    const { shown, named } = await contextFiles(root, files, "fix the greeting in the report");
    expect(shown).toContain("package.json");
    expect(shown).toContain("README.md");
    expect(shown).toContain("src/report.js");
    expect(shown).toContain("src/util.js");
    expect(shown).not.toContain("src/other.js");
    expect(shown).not.toContain(".env");
    expect(shown).not.toContain("package-lock.json");
    expect(shown).not.toContain("img/greeting.bin");
    expect(named).toEqual(["big/greeting.txt"]);
  });

  it("the first request's files also match the words of the tests, not only the prompt's", async () => {
    const dir = tempDir({
      "README.md": "# shop\n",
      "src/billing/invoice_total.js": "export const sum = (lines) => lines.reduce((a, b) => a + b, 0);\n",
      "src/money/rates.js": "export const vat_rate = 0.2;\n",
      "src/other.js": "export const x = 1;\n",
    });
    const runDir = tempDir();
    const options = {
      dir,
      dockerfile: null,
      branch: null,
      apply: false,
      keepDockerfile: false,
      maxBytes: 2 ** 20,
    };
    const project = new UserProject(options, runDir, join(runDir, "workspace"), null);
    const record = await project.snapshot(new AbortController().signal);
    const view = await project.view(record, {
      prompt: "make it right",
      tests: "the invoice total includes the vat_rate",
    });
    const shown = view.files.map((f) => f.path);
    expect(shown).toContain("src/billing/invoice_total.js"); // by its name
    expect(shown).toContain("src/money/rates.js"); // by its contents
    expect(shown).not.toContain("src/other.js");
  });
});
