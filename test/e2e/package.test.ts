import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";
import { passedRun } from "../helpers/run-fixtures.js";
import { tempDir } from "../helpers/tmp.js";

describe("the published package", () => {
  it("installs from its tarball into an empty folder and runs `azlon --help` and `azlon prompts` there", {
    timeout: 240_000,
  }, () => {
    const packDir = tempDir();
    execFileSync("npm", ["pack", "--pack-destination", packDir, "--ignore-scripts"], {
      cwd: ROOT,
      stdio: "pipe",
    });
    const tarball = readdirSync(packDir).find((f) => f.endsWith(".tgz"));
    expect(tarball).toBeDefined();
    const listing = execFileSync("tar", ["-tzf", join(packDir, tarball as string)], { encoding: "utf8" });
    expect(listing).toContain("package/bin/azlon.js");
    expect(listing).toContain("package/dist/entry.js");
    expect(listing).toContain("package/prompts/validate.user.md");
    // The web page (azlon serve) and the report's CSS ship beside the bundle.
    for (const file of ["index.html", "app.js", "api.js", "dom.js", "view.js", "diff.js", "style.css"])
      expect(listing).toContain(`package/dist/web/${file}`);
    // azlon bench's task set ships too, and batch.json's schemas.
    expect(listing).toContain("package/bench/tasks/py-wordfreq/task.yaml");
    expect(listing).toContain("package/bench/tasks/harbor-shout/tests/test.sh");
    expect(listing).toContain("package/schemas/batch.schema.json");
    expect(listing).not.toContain("package/bench/run.ts");
    expect(listing).not.toContain("package/src/");
    // The single executable (npm run build:binary) is released on its own, not in the package.
    expect(listing).not.toContain("package/dist/azlon");
    expect(listing).not.toContain("package/dist/sea/");
    expect(listing).not.toContain("package/test/");

    const app = tempDir({
      "package.json": JSON.stringify({ name: "empty", version: "1.0.0", private: true }),
    });
    execFileSync("npm", ["install", "--no-audit", "--no-fund", join(packDir, tarball as string)], {
      cwd: app,
      stdio: "pipe",
    });
    const bin = join(app, "node_modules/.bin/azlon");
    expect(existsSync(bin)).toBe(true);
    const help = spawnSync(bin, ["--help"], { cwd: app, encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("resume");
    const prompts = spawnSync(bin, ["prompts"], { cwd: app, encoding: "utf8" });
    expect(prompts.status, prompts.stderr).toBe(0);
    expect(prompts.stdout).toContain(join(app, "node_modules/azlon/prompts/generate.system.md"));
    expect(prompts.stdout).toContain("{{tests}}");
    // `azlon bench` finds its tasks in the installed package (a shard with none of them runs nothing).
    const bench = spawnSync(bin, ["bench", "--oracle", "--shard", "99/99", "--json"], {
      cwd: app,
      encoding: "utf8",
    });
    expect(bench.status, bench.stderr).toBe(0);
    expect(JSON.parse(bench.stdout).totals.tasks).toBe(0);
    // `azlon report` finds the page's CSS in the installed package.
    const report = spawnSync(bin, ["report", passedRun()], { cwd: app, encoding: "utf8" });
    expect(report.status, report.stderr).toBe(0);
    expect(readFileSync(report.stdout.trim(), "utf8")).toContain(":focus-visible");
  });
});
