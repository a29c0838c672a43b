import { type Command, Option } from "commander";
import { DEFAULTS } from "../config/defaults.js";
import type { CliContext } from "./io.js";

/** What an action hands back to main(), which commander does not pass on. */
export interface ActionState {
  json: boolean;
  code: number;
}

const BATCH_HELP = `
Tasks: a .jsonl file (a task a line: {"id", "prompt", "tests", "checks"?, "checksDir"?,
"from"?, "options"?, "solution"?}, paths relative to the file), one task folder, or a folder
of task folders. A task folder is azlon's (task.yaml with prompt, tests, checks, options;
checks/, project/ and solution/ folders) or Harbor's (instruction.md, task.toml,
environment/Dockerfile, tests/test.sh writing /logs/verifier/reward.txt, solution/solve.sh).

The batch folder (--out) holds batch.json, summary.md and a run folder per task and attempt.
The same command on the same --out carries the batch on: finished attempts are kept,
stopped ones resumed where they stopped, the rest started.

Exit codes: 0 every task passed · 1 any did not · 2 bad usage · 3 environment (Docker, the
endpoint: the batch stops after the first failures) · 130 interrupted.

Examples:
  azlon batch tasks.jsonl --attempts 3 --concurrency 4
  azlon batch tasks/ --shard 2/3 --out shard-2          (then: azlon batch merge shard-* --out all)
  azlon batch compare azlon-batches/model-a azlon-batches/model-b`;

const repeat = (value: string, previous: string[] = []) => [...previous, value];

/** The flags `batch` and `bench` share. */
function batchOptions(cmd: Command): Command {
  return cmd
    .option("-o, --out <dir>", "the batch folder (default ./azlon-batches/<name of the tasks>)")
    .option(
      "--concurrency <k>",
      "runs at the same time (default: as many as the machine's cores and memory hold by each run's --cpus and --memory)",
    )
    .option("--attempts <n>", "independent runs of each task, for pass@k (default 1)")
    .option(
      "--max-cost <usd>",
      "stop the whole batch once it has cost this much (each task keeps its own budget too)",
    )
    .option("--max-time <sec>", "stop the whole batch after this long, over all the times it ran")
    .option(
      "--shard <i/n>",
      "run only the i-th of n equal parts of the tasks (1-based; every task is in exactly one)",
    )
    .option("--retry-failed", "start the failed and errored attempts again (their old run folders stay)")
    .option(
      "--oracle",
      "run each task's reference solution instead of a model (no request): proves the tasks solvable and their checks sound",
    )
    .option("--junit <file>", "write JUnit XML, a testcase per task attempt")
    .option("--json", "print the summary as one JSON object (schemas/batch-summary.schema.json)")
    .option(
      "--image-map <image=replacement>",
      "build from this image where a task names that one (repeatable; env AZLON_IMAGE_MAP)",
      repeat,
    )
    .option("-m, --model <id>", `the model of every task (env AZLON_MODEL; default ${DEFAULTS.model})`)
    .option("--base-url <url>", "an OpenAI-compatible endpoint (env OPENAI_BASE_URL)")
    .option("--max-iterations <n>", "rounds per attempt, over the tasks' own")
    .option("--run-timeout <sec>", "stop a program after this long, over the tasks' own")
    .option("--build-timeout <sec>", "stop an image build after this long, over the tasks' own")
    .option("--memory <size>", "container memory limit of every task")
    .option("--cpus <n>", "container CPU limit of every task")
    .addOption(
      new Option(
        "--network <mode>",
        "network while every task's program runs (a task may only close it)",
      ).choices(["none", "bridge"]),
    )
    .addOption(
      new Option("--builder <mode>", "the builder of every task (default auto)").choices([
        "auto",
        "classic",
        "buildkit",
      ]),
    )
    .option("--model-retries <n>", "retries of a failed model request")
    .option("--model-timeout <sec>", "time limit of one model request")
    .option("-c, --config <path>", "use this config file instead of searching for one (trusted)")
    .option(
      "--trust-config",
      "trust the config azlon finds here to set the endpoint and name files outside its folder (env AZLON_TRUST_CONFIG=1)",
    );
}

/** `azlon batch` (with merge, compare and show) and `azlon bench`. */
export function addBatchCommands(program: Command, ctx: CliContext, state: ActionState): void {
  const batch = batchOptions(
    program
      .command("batch")
      .description(
        "run many tasks (jsonl, task folders, Harbor tasks): concurrency, attempts and pass@k, resume, shards",
      )
      .argument("<tasks>", "a .jsonl file, a task folder, or a folder of task folders"),
  )
    .addHelpText("after", BATCH_HELP)
    // `batch merge --out` and `batch compare --json` are the subcommand's, not batch's own.
    .enablePositionalOptions()
    .action(async (tasks: string, flags) => {
      state.json = !!flags.json;
      const { batchCommand } = await import("./commands/batch.js");
      state.code = await batchCommand(tasks, flags, ctx);
    });
  batch
    .command("merge")
    .description("join shard folders into one batch (refuses two shards that ran the same task)")
    .argument("<dirs...>", "the shards' batch folders")
    .requiredOption("-o, --out <dir>", "the folder of the merged batch")
    .option("--junit <file>", "write JUnit XML of the merged batch")
    .option("--json", "print the merged summary as one JSON object")
    .action(async (dirs: string[], flags) => {
      state.json = !!flags.json;
      const { mergeCommand } = await import("./commands/batch.js");
      state.code = await mergeCommand(dirs, flags, ctx);
    });
  batch
    .command("compare")
    .description(
      "compare two batches on the tasks both ran: pass rates, difference, exact McNemar p-value, 95% interval",
    )
    .argument("<a>", "a batch folder (or merged folder)")
    .argument("<b>", "another; the difference is B's pass rate minus A's")
    .option("--json", "print the comparison as one JSON object (schemas/batch-compare.schema.json)")
    .addHelpText("after", "\nExit code 0 whatever the result (2 for bad usage).")
    .action(async (a: string, b: string, flags) => {
      state.json = !!flags.json;
      const { compareCommand } = await import("./commands/batch.js");
      state.code = await compareCommand(a, b, flags, ctx);
    });
  batch
    .command("show")
    .description("a batch folder's summary as it stands now")
    .argument("<dir>", "the batch folder")
    .option("--junit <file>", "write JUnit XML of it")
    .option("--json", "print the summary as one JSON object")
    .action(async (dir: string, flags) => {
      state.json = !!flags.json;
      const { showCommand } = await import("./commands/batch.js");
      state.code = await showCommand(dir, flags, ctx);
    });

  batchOptions(
    program
      .command("bench")
      .description(
        "run the task set shipped with azlon: pass@1, pass@k, iterations, tokens and cost per task",
      ),
  ).action(async (flags) => {
    state.json = !!flags.json;
    const { benchCommand } = await import("./commands/batch.js");
    state.code = await benchCommand(flags, ctx);
  });
}
