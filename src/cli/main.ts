import { Command, CommanderError, Option } from "commander";
import { DEFAULTS } from "../config/defaults.js";
import { ExitCode, errorMessage, FatalError, UsageError } from "../core/errors.js";
import type { errorResult as ErrorResult } from "../engine/result.js";
import { collectSecrets, Redactor } from "../util/secrets.js";
import { forTerminal, safeJson } from "../util/terminal.js";
import { addBatchCommands } from "./batch-program.js";
import { shortHelp } from "./help.js";
import type { CliContext } from "./io.js";

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
project root, over your own ~/.config/azlon/config.yaml ($XDG_CONFIG_HOME); flags beat
environment beat project config beat your config beat defaults. Each flag's key there is
its name in camelCase (--max-iterations: maxIterations); docs/configuration.md in the
azlon package and repository lists them all.
A config azlon finds is the folder's author's: unless you trust it (--trust-config,
AZLON_TRUST_CONFIG=1, or naming it with --config) it may not change the endpoint your key
goes to, name files outside its folder, or be code (azlon.config.js); each is exit 2.

Exit codes: 0 passed · 1 did not pass (a limit or budget was reached) · 2 bad usage or
config · 3 environment (Docker, endpoint, credentials) · 130 interrupted (128+signal:
129 terminal closed, 141 output closed, 143 SIGTERM).

Example:
  azlon run --prompt "a Python CLI that adds two numbers" \\
            --tests "running it prints 2 + 3 = 5 and exits 0"

  With your own checks deciding (files copied to /azlon/checks after the build):
  azlon run --prompt "a Python module add.py with add(a, b)" --tests "add works" \\
            --checks tests/azlon --check "python3 /azlon/checks/test_add.py"

  A change to your project, as a branch (changes.patch in the run folder always):
  azlon run --from . --prompt "add a --json flag" --tests "app --json prints JSON" \\
            --branch azlon/json-flag`;

const TRUST_HELP =
  "trust the config azlon finds here to set the endpoint, name files outside its folder and be code (env AZLON_TRUST_CONFIG=1)";

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
export interface CliState {
  json: boolean;
  code: number;
}

export function buildProgram(ctx: CliContext, state: CliState): Command {
  const program = new Command("azlon")
    .description(
      "An autonomous coding agent: describe a program and its tests; azlon has a model write it, builds and runs it in Docker, and fixes it until the tests pass.",
    )
    .version(VERSION, "-V, --version")
    // -v too, as azlon 0.1 had it: a hidden alias that prints the same.
    .addOption(new Option("-v").hideHelp())
    .on("option:v", () => {
      ctx.stdout.write(`${VERSION}\n`);
      throw new CommanderError(0, "commander.version", VERSION);
    })
    .showHelpAfterError("(run with --help for usage)")
    // A subcommand's options are its own (`batch merge --out`, not `batch --out`).
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });

  const run = program
    .command("run")
    .description("build a project from a prompt and test conditions, until they pass")
    .summary("build a project from a prompt and tests until they pass")
    .option("-p, --prompt <text>", "what to build")
    .option("--prompt-file <path>", 'read what to build from a file ("-": standard input)')
    .option("-t, --tests <text>", "how to tell that it works, in plain words")
    .option("--tests-file <path>", 'read the test conditions from a file ("-": standard input)')
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
      new Option(
        "--builder <mode>",
        "auto: the classic builder (which holds RUN steps to --memory and --cpus) for Dockerfiles with RUN steps, BuildKit for those that need it (RUN --mount, here-documents) and those that run nothing (default auto)",
      ).choices(["auto", "classic", "buildkit"]),
    )
    .addOption(
      new Option("--structured-output <mode>", "how replies are constrained (default auto)").choices([
        "auto",
        "json_schema",
        "json",
      ]),
    )
    .option("--model-timeout <sec>", `time limit of one model request (default ${DEFAULTS.modelTimeout})`)
    .option("--model-retries <n>", `retries of a failed model request (default ${DEFAULTS.modelRetries})`)
    .option("-c, --config <path>", "use this config file instead of searching for one (trusted)")
    .option("--trust-config", TRUST_HELP)
    .option("--json", "print one JSON result object on stdout; progress stays on stderr")
    .option(
      "--check <command>",
      "a command run with sh -c in a fresh container of the built image; exit 0 passes (repeatable)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--checks <dir>", "your check files, copied to /azlon/checks in every check container")
    .option("--hide-checks", "show the model the checks' names and results, not their files")
    .option(
      "--checks-need <text>",
      'what the checks need in the image, told to the model, e.g. "python3 and PyYAML" (use it with --hide-checks)',
    )
    .option("--check-timeout <sec>", "time limit of one check (default: the run timeout)")
    .option(
      "--check-image <image>",
      "run every check in a fresh container of this trusted image, never the project's (project at /azlon/project, output at /azlon/output)",
    )
    .option("--service", "the program is a service: checks run beside it once --ready succeeds")
    .option("--ready <command>", "polled inside the service's container until it exits 0")
    .option("--ready-timeout <sec>", "how long to wait for --ready (default 60)")
    .addOption(
      new Option("--verdict <who>", "who decides a pass (default: both with checks, else judge)").choices([
        "checks",
        "judge",
        "both",
      ]),
    )
    .option("--junit <file>", "write JUnit XML of the checks and the verdict here, at the end of the run")
    .option(
      "--from <dir>",
      "start from your project: a copy of its working tree (a git repository's tracked files with their changes and untracked ones .gitignore allows); your folder is never written during the run",
    )
    .option(
      "--dockerfile <path>",
      "with --from: build with this Dockerfile of the project (default: its root Dockerfile)",
    )
    .option("--branch <name>", "with --from, after a pass: a new git branch on your HEAD holding the change")
    .option(
      "--apply",
      "with --from, after a pass: write the change into your folder, where nothing changed since",
    )
    .option(
      "--keep-dockerfile",
      "with --from: put a Dockerfile azlon wrote (your project had none) into the patch",
    )
    .option("--max-from-size <size>", "with --from: the most the copied files may take (default 200m)")
    .addHelpText("after", RUN_HELP_AFTER);
  limitOptions(run).action(async (flags) => {
    state.json = !!flags.json;
    const { runCommand } = await import("./commands/run.js");
    state.code = await runCommand(flags, ctx);
  });

  const resume = program
    .command("resume")
    .description("continue an interrupted or failed run where it stopped, with its own options")
    .summary("carry on a run that stopped short, where it stopped")
    .argument("<run-dir>", "the run folder (azlon-runs/<run-id>)")
    .option("--json", "print one JSON result object on stdout")
    .option("--model-retries <n>", "retries of a failed model request")
    .option("--model-timeout <sec>", "time limit of one model request")
    .option("--base-url <url>", "the endpoint, if it moved")
    .option(
      "--force",
      "take the run from a process azlon cannot check (on another host, or a reused number without /proc)",
    )
    .option("--junit <file>", "write JUnit XML of the checks and the verdict here, at the end of the run")
    .addHelpText(
      "after",
      "\nLimits given here replace the run's own (raise --max-iterations to go on after the cap).",
    );
  limitOptions(resume).action(async (dir: string, flags) => {
    state.json = !!flags.json;
    const { resumeCommand } = await import("./commands/resume.js");
    state.code = await resumeCommand(dir, flags, ctx);
  });

  program
    .command("init")
    .description(
      "write a commented .azlonrc.yaml in this folder (model, limits, checks, budgets); on a terminal it asks for the model and a check, in CI or from a script it asks nothing. It never overwrites a config",
    )
    .summary("write a commented config here (--global: your own)")
    .option(
      "--global",
      "write your own config instead, for every project: $XDG_CONFIG_HOME/azlon/config.yaml, else ~/.config/azlon/config.yaml",
    )
    .option(
      "-m, --model <id>",
      `the model (default: asked, else AZLON_MODEL, your config's, or ${DEFAULTS.model})`,
    )
    .option(
      "--base-url <url>",
      "your OpenAI-compatible endpoint: with --global only (a project's config may not choose it)",
    )
    .option("--check <command>", "a check command that must exit 0 in the built image")
    .addHelpText(
      "after",
      "\nExit codes: 0 written · 2 a config is there already (it is never overwritten), or a bad value.",
    )
    .action(async (flags) => {
      const { initCommand } = await import("./commands/init.js");
      state.code = await initCommand(flags, ctx);
    });

  const prompts = program
    .command("prompts")
    .description("show the effective prompt templates and where each comes from")
    .summary("show the prompt templates in effect, and from where")
    .argument("[name]", "only this template (generateSystem, generateUser, validateSystem, validateUser)")
    .option("-c, --config <path>", "use this config file instead of searching for one (trusted)")
    .option("--trust-config", TRUST_HELP)
    .action(async (name: string | undefined, flags) => {
      const { showPrompts } = await import("./commands/prompts.js");
      state.code = await showPrompts({ ...flags, ...(name ? { name } : {}) }, ctx);
    });
  prompts
    .command("init")
    .description("copy the default templates into a folder for editing")
    .summary("copy the default templates out for editing")
    .argument("[dir]", "where to write them", "azlon-prompts")
    .option("--force", "overwrite templates already there")
    .action(async (dir: string, flags) => {
      const { initPrompts } = await import("./commands/prompts.js");
      state.code = await initPrompts(dir, flags, ctx);
    });

  program
    .command("show")
    .description(
      "one run in full: status and stop reason, each round's outcome, the last checks, tokens, cost, image, and the command that carries it on",
    )
    .summary("one run in full, and how to carry it on")
    .argument("<run-dir>", "the run folder (azlon-runs/<run-id>)")
    .option("--json", "print the run's --json result object instead")
    .action(async (dir: string, flags) => {
      state.json = !!flags.json;
      const { showCommand } = await import("./commands/show.js");
      state.code = await showCommand(dir, flags, ctx);
    });

  program
    .command("runs")
    .description(
      "list the run folders: status, stop reason, iterations, cost, image and when last active; with a run's id, show it (as azlon show)",
    )
    .summary("list the runs: status, stop reason, cost, image")
    .argument("[run]", "a run's id (or folder): show that run, as `azlon show` does")
    .option("-o, --out <dir>", `where the run folders are (default ./${DEFAULTS.out})`)
    .option("-c, --config <path>", "use this config file instead of searching for one (trusted)")
    .option("--trust-config", TRUST_HELP)
    .option("--json", "print them as JSON (with a run: its --json result object)")
    .action(async (run: string | undefined, flags) => {
      state.json = !!flags.json && run !== undefined;
      const { runsCommand } = await import("./commands/runs.js");
      state.code = await runsCommand(flags, ctx, run);
    });
  program
    .command("clean")
    .description("remove the images and containers of finished runs (lists them; --yes removes)")
    .summary("remove finished runs' images and containers")
    .option("-o, --out <dir>", `the runs in this folder (default ./${DEFAULTS.out})`)
    .option("--older-than <age>", "only runs last active longer ago than this: 7d, 12h, 30m")
    .option("--all", "every run azlon has images or containers of on the engine, wherever its folder is")
    .option("-y, --yes", "remove them (without it, only list what would go)")
    .option("-c, --config <path>", "use this config file instead of searching for one (trusted)")
    .option("--trust-config", TRUST_HELP)
    .action(async (flags) => {
      const { cleanCommand } = await import("./commands/clean.js");
      state.code = await cleanCommand(flags, ctx);
    });

  program
    .command("serve")
    .description("serve the HTTP API and the web page: start, watch, cancel and resume runs")
    .summary("the HTTP API and a web page to start and watch runs")
    .option("--host <address>", "the address to listen on; any but loopback needs --token", "127.0.0.1")
    .option("--port <n>", "the port (0: any free one; the URL printed says which)", "8787")
    .option("-o, --out <dir>", `where run folders go (default ./${DEFAULTS.out})`)
    .option("--concurrency <n>", "runs at the same time; more wait in a queue", "2")
    .option(
      "--max-queue <n>",
      "runs that may wait in the queue; a run request beyond them gets 429 (0: none wait)",
      "100",
    )
    .option(
      "--token <secret>",
      "require Authorization: Bearer <secret> on every API route (env AZLON_SERVE_TOKEN)",
    )
    .option(
      "--cors <origin>",
      "let pages from this origin call the API (default: none); other pages' requests get 403",
    )
    .option(
      "--allow-host <name>",
      "answer requests for this host name too (repeatable); on loopback a name but the address, localhost, 127.0.0.1 and [::1] gets 403",
      (name: string, names: string[] = []) => [...names, name],
    )
    .option(
      "--projects-root <dir>",
      'runs may start from a folder under this one ("from" in POST /api/runs; a copy, never written); without it, none may',
    )
    .option("-c, --config <path>", "use this config file instead of searching for one (trusted)")
    .option("--trust-config", TRUST_HELP)
    .action(async (flags) => {
      const { serveCommand } = await import("./commands/serve.js");
      state.code = await serveCommand(flags, ctx);
    });

  program
    .command("report")
    .description("write the run as one self-contained HTML file (report.html in the run folder)")
    .summary("write a run as one self-contained HTML page")
    .argument("<run-dir>", "the run folder (azlon-runs/<run-id>)")
    .option("--output <file>", "write it here instead")
    .action(async (dir: string, flags) => {
      const { reportCommand } = await import("./commands/report.js");
      state.code = await reportCommand(dir, flags, ctx);
    });

  addBatchCommands(program, ctx, state);

  program
    .command("doctor")
    .description(
      "check the Docker engine, API key, endpoint, model (and a llama-server's context size) and config, and say what to fix",
    )
    .summary("check Docker, key, endpoint, model; say what to fix")
    .option("-m, --model <id>", "check this model (env AZLON_MODEL)")
    .option("--base-url <url>", "check this endpoint (env OPENAI_BASE_URL)")
    .option(
      "--base-image <image>",
      `build the trial image FROM this one (default: the config's baseImage, else ${"busybox:latest"}); on a host without a registry, name one the engine has`,
    )
    .option("-c, --config <path>", "use this config file instead of searching for one (trusted)")
    .option("--trust-config", TRUST_HELP)
    .addHelpText(
      "after",
      "\nExit codes: 0 every check passed · 2 bad usage · 3 a check failed (each says what to fix).",
    )
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
  // One screen for `azlon --help` and `azlon` alone; each command's --help has the rest.
  program.helpInformation = () => shortHelp(program);
  // Subcommands inherit neither exitOverride nor the output routing from their parent.
  const all = [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)];
  for (const cmd of all) {
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      // One voice for every usage error: "azlon: ...", as azlon's own errors read.
      outputError: (s, write) => write(s.replace(/^error: /, "azlon: ")),
    });
  }
  if (argv.length === 0) {
    program.outputHelp();
    return ExitCode.usage;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return state.code;
  } catch (error) {
    const json = state.json || argv.includes("--json");
    // result.ts brings zod, a good part of start-up: loaded only to write a --json error line.
    if (json) ({ errorResult } = await import("../engine/result.js"));
    return reportError(error, ctx, json);
  }
}

let errorResult: typeof ErrorResult | undefined;

/** The --json result for a run that never started: CI still gets exactly one object. */
function errorLine(reason: string, error: unknown): string {
  if (!errorResult) throw new Error("errorLine before engine/result.js was loaded");
  return `${safeJson(errorResult(reason, error))}\n`;
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
    if (json)
      ctx.stdout.write(errorLine(error.message.replace(/^error:\s*/, ""), new UsageError(error.message)));
    return ExitCode.usage;
  }
  const redactor = new Redactor(collectSecrets(ctx.env));
  // Messages may quote the endpoint or a file: masked, and stripped of terminal controls.
  const shown = (text: string) => forTerminal(redactor.redactMessage(text));
  if (error instanceof FatalError) {
    if (json) ctx.stdout.write(errorLine(redactor.redactMessage(error.message), error));
    ctx.stderr.write(`azlon: ${shown(error.message)}\n`);
    if (error.hint) ctx.stderr.write(`  fix: ${shown(error.hint)}\n`);
    return error.exitCode;
  }
  // A bug: say so plainly, with the stack, since that is what a maintainer needs.
  const message = redactor.redactMessage(errorMessage(error));
  if (json) ctx.stdout.write(errorLine(`unexpected error (a bug in azlon): ${message}`, error));
  ctx.stderr.write(`azlon: unexpected error (a bug in azlon): ${forTerminal(message)}\n`);
  if (error instanceof Error && error.stack) ctx.stderr.write(`${shown(error.stack)}\n`);
  return ExitCode.notPassed;
}
