import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { freshState } from "../helpers/fakes.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-base-url-0123456789";
const PASSWORD = "pw-hunter2-Zq81";
const WITH_PASSWORD = `http://alice:${PASSWORD}@127.0.0.1:9/v1`;

/** Exit 2, the way to pass credentials named, the password nowhere, no run folder made. */
function expectRefused(r: { code: number | null; stdout: string; stderr: string }, out: string) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toContain("user name or password");
  expect(r.stderr).toContain("OPENAI_API_KEY");
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const text of [r.stdout, r.stderr]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain("alice");
  }
  expect(existsSync(out)).toBe(false);
}

describe("a base URL with a user name or password is refused up front (exit 2)", () => {
  const run = ["run", "--prompt", "greet", "--tests", "prints hello"];

  it("from --base-url", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const r = await runCli([...run, "--base-url", WITH_PASSWORD, "--out", out], {
      cwd,
      env: { OPENAI_API_KEY: KEY },
    });
    expectRefused(r, out);
    expect(r.stderr).toContain("--base-url");
  });

  it("from OPENAI_BASE_URL, and with --json the one result object holds no password either", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const r = await runCli([...run, "--out", out, "--json"], {
      cwd,
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: WITH_PASSWORD },
    });
    expectRefused(r, out);
    expect(r.stderr).toContain("OPENAI_BASE_URL");
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "error", stopReason: "error" });
  });

  it("from the config file", async () => {
    const cwd = tempDir({
      "package.json": '{ "name": "demo" }',
      ".azlonrc.json": JSON.stringify({ baseUrl: WITH_PASSWORD }),
    });
    const out = join(cwd, "runs");
    const r = await runCli([...run, "--out", out], { cwd, env: { OPENAI_API_KEY: KEY } });
    expectRefused(r, out);
  });

  it("from `resume --base-url`, leaving the run's record untouched", async () => {
    const dir = tempDir();
    const state = { ...freshState(), status: "failed" as const };
    const record = `${JSON.stringify(state, null, 2)}\n`;
    writeFileSync(join(dir, "run.json"), record);
    const r = await runCli(["resume", dir, "--base-url", WITH_PASSWORD], {
      cwd: dir,
      env: { OPENAI_API_KEY: KEY },
    });
    expectRefused(r, join(dir, "events.jsonl"));
    expect(readFileSync(join(dir, "run.json"), "utf8")).toBe(record);
  });

  it("a run.json of an older azlon that stored such a URL masked asks for --base-url", async () => {
    const dir = tempDir();
    const state = { ...freshState({ baseUrl: "http://[secret]@127.0.0.1:9/v1" }), status: "failed" };
    writeFileSync(join(dir, "run.json"), JSON.stringify(state));
    const r = await runCli(["resume", dir], { cwd: dir, env: { OPENAI_API_KEY: KEY } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("pass --base-url without them");
  });
});
