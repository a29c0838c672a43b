import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { tempDir } from "../helpers/tmp.js";

/** Calls the CLI in-process with a clean environment, no Docker engine, and this stdin. */
async function cli(argv: string[], options: { cwd?: string; stdin?: string | null } = {}) {
  let stdout = "";
  let stderr = "";
  const cwd = options.cwd ?? tempDir();
  const ctx: CliContext = {
    env: {
      OPENAI_API_KEY: "sk-test-main-000",
      HOME: cwd,
      // Nothing listens here: a run that gets this far stops before writing anything.
      DOCKER_HOST: `unix://${join(cwd, "no-engine.sock")}`,
    },
    cwd,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    ...(options.stdin === null ? {} : { stdin: Readable.from([options.stdin ?? ""]) }),
  };
  const code = await main(argv, ctx);
  return { code, stdout, stderr };
}

const task = ["run", "--prompt", "greet", "--tests", "prints hello"];

describe("reading the prompt and the tests", () => {
  it("--prompt-file - reads standard input", async () => {
    // Whitespace only: the error proves it was stdin that was read, before any engine is asked.
    const r = await cli(["run", "--prompt-file", "-", "--tests", "prints hello"], { stdin: "  \n\n" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("azlon: --prompt is empty");
  });

  it("--tests-file - reads standard input too, and a prompt read from it goes on to the engine", async () => {
    const r = await cli(["run", "--prompt", "greet", "--tests-file", "-"], { stdin: "it prints hello\n" });
    expect(r.code).toBe(3); // past the input: no Docker engine answers
    expect(r.stderr).toContain("cannot reach the Docker engine");
  });

  it("--prompt-file - and --tests-file - together are a usage error", async () => {
    const r = await cli(["run", "--prompt-file", "-", "--tests-file", "-"], { stdin: "x" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--prompt-file - and --tests-file - cannot both read standard input");
  });

  it("without a standard input to read, says so", async () => {
    const r = await cli(["run", "--prompt-file", "-", "--tests", "y"], { stdin: null });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("reads standard input");
  });

  it("a missing prompt file keeps its cause (ENOENT)", async () => {
    const cwd = tempDir();
    const r = await cli(["run", "--prompt-file", "nope.md", "--tests", "y"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `cannot read --prompt-file ${join(cwd, "nope.md")}: no such file or folder (ENOENT)`,
    );
  });

  it("a folder given as the tests file keeps its cause (EISDIR)", async () => {
    const cwd = tempDir({ "specs/a.md": "x" });
    const r = await cli(["run", "--prompt", "x", "--tests-file", "specs"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("it is a folder, not a file (EISDIR)");
    expect(r.stderr).toContain("fix: name a file, not a folder");
  });
});

describe("other file errors keep their cause", () => {
  it("a prompt template that is a folder (EISDIR)", async () => {
    const cwd = tempDir({
      "judge.md/x": "",
      ".azlonrc.json": JSON.stringify({ prompts: { validateSystem: "judge.md" } }),
    });
    const r = await cli(["prompts"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `cannot read prompt template "validateSystem" at ${join(cwd, "judge.md")}: it is a folder, not a file (EISDIR)`,
    );
  });

  it("`prompts init` into a path under a file (ENOTDIR) is a usage error, not a crash", async () => {
    const cwd = tempDir({ "notes.txt": "x" });
    const r = await cli(["prompts", "init", "notes.txt/prompts"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot write the templates to ${join(cwd, "notes.txt/prompts")}:`);
    expect(r.stderr).toContain("(ENOTDIR)");
    expect(r.stderr).not.toContain("a bug in azlon");
  });
});

describe("flags", () => {
  it.each([["-V"], ["-v"], ["--version"]])("%s prints the version", async (flag) => {
    const r = await cli([flag]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^(\d+\.\d+\.\d+.*|dev)$/);
  });

  it("run takes --model-timeout and --model-retries, checked like any value", async () => {
    const timeout = await cli([...task, "--model-timeout", "soon"]);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain(
      '--model-timeout must be a number of seconds greater than 0 (got "soon")',
    );
    const retries = await cli([...task, "--model-retries", "99"]);
    expect(retries.stderr).toContain("--model-retries must be a whole number from 0 to 20 (got 99)");
    const fine = await cli([...task, "--model-timeout", "30", "--model-retries", "0"]);
    expect(fine.code).toBe(3); // accepted: stops only at the missing engine
  });

  it("doctor takes --model, --base-url and --config; a bad one is a usage error naming doctor's help", async () => {
    const r = await cli(["doctor", "--model", "m", "--base-url", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'azlon: --base-url must be a URL such as http://localhost:11434/v1 (got "nope")\n  fix: see `azlon doctor --help`\n',
    );
  });

  it("doctor with --config names that file's problem", async () => {
    const cwd = tempDir({ "ci.json": JSON.stringify({ maxIterations: 0 }) });
    const r = await cli(["doctor", "--config", "ci.json", "--model", "m"], { cwd });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(
      `✖ config    "maxIterations" in ${join(cwd, "ci.json")} must be a whole number`,
    );
    expect(r.stdout).toContain(`fix: fix it in ${join(cwd, "ci.json")}`);
  });
});
