import { Command, CommanderError, Option } from "commander";
import { DEFAULTS } from "../config/defaults.js";
import { ExitCode, errorMessage, FatalError } from "../core/errors.js";
import { collectSecrets, Redactor } from "../util/secrets.js";
import type { CliContext } from "./io.js";
import { resultObject } from "./result.js";

// Kept in step with package.json by the build (esbuild's define); "dev" when run from source.
declare const __AZLON_VERSION__: string | undefined;
const VERSION = typeof __AZLON_VERSION__ === "string" ? __AZLON_VERSION__ : "dev";

const RUN_HELP_AFTER = `
Prompt and tests are plain words: what to build, and how to tell that it works.
The model's project is built and run in Docker, judged against the tests, and fixed
round after round until they pass or a limit is reached.

Environment:
  OPENAI_API_KEY     the API key (OPENAI_KEY is accepted too)
  OPENAI_BASE_URL    any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, ...)
  AZLON_MODEL        the model
  DOCKER_HOST        the Docker engine (else the current Docker context, else the usual socket)
  NO_COLOR           no colours

Config: .azlonrc(.json|.yaml) or "azlon" in package.json, searched from here up to the
project root; flags beat environment beat config beat defaults. See .azlonrc.example.

Exit codes: 0 passed · 1 did not pass (a limit or budget was reached) · 2 bad usage or
config · 3 environment (Docker, endpoint, credentials) · 130 interrupted.

Example:
  azlon run --prompt "a Python CLI that adds two numbers" \\
            --tests "running it prints 2 + 3 = 5 and exits 0"`;

function limitOptions(cmd: Command): Command {
  return cmd
    .option(
      "--max-iterations <n>",
      `rounds of build, run and judge before giving up (default ${DEFAULTS.maxIterations})`,
    )
    .option("--run-timeout <sec>", `stop the program after this long (default ${DEFAULTS.runTimeout})`)
    .option("--build-timeout <sec>", `stop an image build after this long (default ${DEFAULTS.buildTimeout})`)
    .option("--max-tokens <n>", "stop the run once the model has used this many tokens (default: no limit)")
    .option(
      "--max-cost <usd>",
      "stop once the model has cost this much, by the price table (default: no limit)",
    )
    .option("--max-time <sec>", "stop the run after this long in all (default: no limit)")
    .option("--max-reply-tokens <n>", `cap one model reply's length (default ${DEFAULTS.maxReplyTokens})`);
}

/** What the actions hand back to main(): commander does not pass return values on. */
interface CliState {
  json: boolean;
  code: number;
}

function buildProgram(ctx: CliContext, state: CliState): Command {
  const program = new Command("azlon")
    .description(
      "An autonomous coding agent: describe a program and its tests; azlon has a model write it, builds and runs it in Docker, and fixes it until the tests pass.",
    )
    .version(VERSION, "-v, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });

  const run = program
    .command("run")
    .description("build a project from a prompt and test conditions, until they pass")
    .option("-p, --prompt <text>", "what to build")
    .option("--prompt-file <path>", "read what to build from a file")
    .option("-t, --tests <text>", "how to tell that it works, in plain words")
    .option("--tests-file <path>", "read the test conditions from a file")
    .option("-m, --model <id>", `the model (env AZLON_MODEL; default ${DEFAULTS.model})`)
    .option("--base-url <url>", "an OpenAI-compatible endpoint (env OPENAI_BASE_URL; default OpenAI)")
    .option("-o, --out <dir>", `where run folders go (default ./${DEFAULTS.out})`)
    .option("--memory <size>", `container memory limit, e.g. 512m, 2g (default ${DEFAULTS.memory})`)
    .option("--cpus <n>", `container CPU limit (default ${DEFAULTS.cpus})`)
    .option("--pids <n>", `container process limit (default ${DEFAULTS.pids})`)
    .addOption(
      new Option(
        "--network <mode>",
        "network while the program runs; builds always have it (default none)",
      ).choices(["none", "bridge"]),
    )
    .option("--base-image <image>", "tell the model to build FROM this image (default: its choice)")
    .addOption(
      new Option("--structured-output <mode>", "how replies are constrained (default auto)").choices([
        "auto",
        "json_schema",
        "json",
      ]),
    )
    .option("-c, --config <path>", "use this config file instead of searching for one")
    .option("--json", "print one JSON result object on stdout; progress stays on stderr")
    .addHelpText("after", RUN_HELP_AFTER);
  // The main command's flags in the top-level help too, so `azlon --help` shows them all.
  program.addHelpText("after", () => `\n${run.helpInformation()}${RUN_HELP_AFTER}\n`);
  limitOptions(run).action(async (flags) => {
    state.json = !!flags.json;
    const { runCommand } = await import("./commands/run.js");
    state.code = await runCommand(flags, ctx);
  });

  const resume = program
    .command("resume")
    .description("continue an interrupted or failed run where it stopped, with its own options")
    .argument("<run-dir>", "the run folder (azlon-runs/<run-id>)")
    .option("--json", "print one JSON result object on stdout")
    .option("--model-retries <n>", "retries of a failed model request")
    .option("--model-timeout <sec>", "time limit of one model request")
    .option(
      "--base-url <url>",
      "the endpoint, if it moved (or its URL carried credentials, which are not stored)",
    )
    .option("--force", "resume even though run.json names a live process (its number was reused)")
    .addHelpText(
      "after",
      "\nLimits given here replace the run's own (raise --max-iterations to go on after the cap).",
    );
  limitOptions(resume).action(async (dir: string, flags) => {
    state.json = !!flags.json;
    const { resumeCommand } = await import("./commands/resume.js");
    state.code = await resumeCommand(dir, flags, ctx);
  });

  const prompts = program
    .command("prompts")
    .description("show the effective prompt templates and where each comes from")
    .argument("[name]", "only this template (generateSystem, generateUser, validateSystem, validateUser)")
    .option("-c, --config <path>", "use this config file")
    .action(async (name: string | undefined, flags) => {
      const { showPrompts } = await import("./commands/prompts.js");
      state.code = await showPrompts({ ...flags, ...(name ? { name } : {}) }, ctx);
    });
  prompts
    .command("init")
    .description("copy the default templates into a folder for editing")
    .argument("[dir]", "where to write them", "azlon-prompts")
    .option("--force", "overwrite templates already there")
    .action(async (dir: string, flags) => {
      const { initPrompts } = await import("./commands/prompts.js");
      state.code = await initPrompts(dir, flags, ctx);
    });

  program
    .command("doctor")
    .description("check the Docker engine, API key, endpoint, model and config, and say what to fix")
    .option("-c, --config <path>", "use this config file")
    .action(async (flags) => {
      const { doctorCommand } = await import("./commands/doctor.js");
      state.code = await doctorCommand(flags, ctx);
    });
  return program;
}

/**
 * The CLI: parses argv, runs the command, and turns every outcome into an exit code.
 * Expected failures print one line with the cause and the fix; never a stack trace.
 */
export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const state: CliState = { json: false, code: ExitCode.passed };
  const program = buildProgram(ctx, state);
  // Subcommands inherit neither exitOverride nor the output routing from their parent.
  const all = [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)];
  for (const cmd of all) {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  }
  if (argv.length === 0) {
    program.outputHelp();
    return ExitCode.usage;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return state.code;
  } catch (error) {
    return reportError(error, ctx, state.json || argv.includes("--json"));
  }
}

/** The --json result for a run that never started: CI still gets exactly one object. */
function errorResult(reason: string): string {
  return `${JSON.stringify(resultObject(null, { reason }))}\n`;
}

function reportError(error: unknown, ctx: CliContext, json: boolean): number {
  if (error instanceof CommanderError) {
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.exitCode === 0
    ) {
      return ExitCode.passed;
    }
    // commander has printed the message on stderr already.
    if (json) ctx.stdout.write(errorResult(error.message.replace(/^error:\s*/, "")));
    return ExitCode.usage;
  }
  const redactor = new Redactor(collectSecrets(ctx.env));
  if (error instanceof FatalError) {
    const message = redactor.redactMessage(error.message);
    if (json) ctx.stdout.write(errorResult(message));
    ctx.stderr.write(`azlon: ${message}\n`);
    if (error.hint) ctx.stderr.write(`  fix: ${redactor.redactMessage(error.hint)}\n`);
    return error.exitCode;
  }
  // A bug: say so plainly, with the stack, since that is what a maintainer needs.
  const message = redactor.redactMessage(errorMessage(error));
  if (json) ctx.stdout.write(errorResult(`unexpected error (a bug in azlon): ${message}`));
  ctx.stderr.write(`azlon: unexpected error (a bug in azlon): ${message}\n`);
  if (error instanceof Error && error.stack) ctx.stderr.write(`${redactor.redactMessage(error.stack)}\n`);
  return ExitCode.notPassed;
}
