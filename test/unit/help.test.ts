import { describe, expect, it } from "vitest";
import { shortHelp } from "../../src/cli/help.js";
import type { CliContext } from "../../src/cli/io.js";
import { buildProgram, main } from "../../src/cli/main.js";

function ctx() {
  const out = { stdout: "", stderr: "" };
  const context: CliContext = {
    env: {},
    cwd: "/",
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
  };
  return { context, out };
}

async function cli(argv: string[]) {
  const { context, out } = ctx();
  const code = await main(argv, context);
  return { code, ...out };
}

/** Every command as typed: "run", "prompts init", ... (subcommands under their parent). */
function registered(): string[] {
  const program = buildProgram(ctx().context, { json: false, code: 0 });
  return program.commands.flatMap((c) => [c.name(), ...c.commands.map((s) => `${c.name()} ${s.name()}`)]);
}

describe("azlon --help", () => {
  it("fits a screen: at most 40 lines of at most 80 columns", async () => {
    const { code, stdout } = await cli(["--help"]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(40);
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
    expect(stdout).toContain("azlon <command> --help for more");
  });

  it("names every registered command, each in one line with what it does", async () => {
    const { stdout } = await cli(["--help"]);
    const names = registered();
    expect(names).toEqual(expect.arrayContaining(["run", "resume", "runs", "doctor", "prompts init"]));
    for (const name of names) expect(stdout).toMatch(new RegExp(`^  ${name}( [<[].*)?  +\\S`, "m"));
  });

  it("lists a command added later without editing a list, cut to fit when it has no summary", () => {
    const program = buildProgram(ctx().context, { json: false, code: 0 });
    program.command("fleet").description(`run many fleets ${"and more ".repeat(12)}; the details`);
    program.commands
      .find((c) => c.name() === "fleet")
      ?.command("merge")
      .summary("join shard folders");
    const text = shortHelp(program);
    expect(text).toMatch(/^ {2}fleet +run many fleets and more .*…$/m);
    expect(text).toMatch(/^ {2}fleet merge +join shard folders$/m);
  });

  it("shows the common flags of run, each one run really has", async () => {
    const short = (await cli(["--help"])).stdout;
    const full = (await cli(["run", "--help"])).stdout;
    const flags = [...short.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1] as string);
    expect(flags).toEqual(expect.arrayContaining(["--prompt", "--tests", "--model", "--base-url"]));
    for (const flag of flags) expect(full).toContain(flag);
  });

  it("`azlon` alone prints the same, as a usage error", async () => {
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe((await cli(["--help"])).stdout);
  });

  it("`azlon run --help` stays complete: every flag, the environment, the config and the exit codes", async () => {
    const { stdout } = await cli(["run", "--help"]);
    for (const text of [
      "--max-reply-tokens",
      "--check-image",
      "OPENAI_API_KEY",
      "Exit codes",
      "--trust-config",
    ])
      expect(stdout).toContain(text);
  });
});
