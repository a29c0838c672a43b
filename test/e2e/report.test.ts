import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { failedRun, passedRun } from "../helpers/run-fixtures.js";
import { tempDir } from "../helpers/tmp.js";

describe("azlon report (the built CLI)", () => {
  it("writes report.html into a passed run's folder and prints its path", async () => {
    const dir = passedRun();
    const result = await runCli(["report", dir], { cwd: tempDir() });
    expect(result.code, result.stderr).toBe(0);
    const path = join(dir, "report.html");
    expect(result.stdout).toBe(`${path}\n`);
    const html = readFileSync(path, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<span class="status passed">passed</span>');
    // The CSS is inside the file: it opens from an artifact, with no server and no network.
    expect(html).toContain(":focus-visible");
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?https?:/i);
  });

  it("writes a failed run's report where --output says, the model's markup kept as text", async () => {
    const dir = failedRun();
    const cwd = tempDir();
    const result = await runCli(["report", dir, "--output", "out.html"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const html = readFileSync(join(cwd, "out.html"), "utf8");
    expect(html).toContain('<span class="status failed">failed</span>');
    expect(html).toContain("max-iterations");
    expect(html).not.toMatch(/<script/i);
    expect(existsSync(join(dir, "report.html"))).toBe(false);
  });

  it("refuses a folder that is not a run, in one line with a fix", async () => {
    const cwd = tempDir({ "notes.txt": "hi" });
    const result = await runCli(["report", cwd], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not an azlon run folder");
    expect(result.stderr).toContain("fix:");
    expect(result.stderr).not.toContain("    at ");
  });
});
