/**
 * azlon's benchmark (not a test): prints its figures, and whether they meet the goals.
 *
 * 1. Per-iteration overhead: a run whose judge always asks for one changed file, against an
 *    instant loopback model, so each iteration is apply + build + run + judge. Beside it the
 *    same work by hand with the docker CLI: change the file, `docker build`, `docker run` with
 *    the same limits. Median of several iterations each; goal: ratio <= 0.85.
 * 2. Start-up: `azlon --help` beside `node -e 0`, median of several; goal: ratio <= 2.0.
 * 3. Edits: a judge's one-line fix in a 40 KB file as an edit against as the whole file, in
 *    output tokens estimated as the reply JSON's bytes / 4; goal: ratio <= 0.10.
 * 4. The single executable (dist/azlon, npm run build:binary): `azlon --help` beside `node -e 0`;
 *    goal: ratio <= 1.3. And its size.
 * 5. Prefix share: how much of each judge request repeats the previous one byte for byte (what
 *    an endpoint's prefix cache can serve), for a 7-file project of over 30 KB in which one
 *    small file changes per round (the same one, or a different one each round), 5 rounds
 *    (bench/prefix.ts); goal: >= 0.85 for every round. Beside it each request's size.
 *
 * 6. BuildKit: the per-iteration overhead of (1) with `--builder buildkit`, against the same
 *    docker CLI rounds; goal: ratio <= 0.85. Beside it a rebuild after a one-line change to a
 *    requirements.txt-style manifest, with a cache mount and without (bench/cache-mount.ts).
 * 7. Existing projects (--from) on a 3,000-file, 30 MB repository (bench/from.ts): snapshot and
 *    patch within 2 s; a one-line fix whose first request is at most 40,000 tokens and whose
 *    requests and replies to the pass are at most 3 times that; --from adds at most 1.5 s to the
 *    time before the first request, against a plain run.
 * 8. azlon batch (bench/batch.ts): 8 tasks whose programs take 2 s, an instant model and
 *    --concurrency 4, against the ideal of two single-task times; goal <= 1.2. And a 1,000-task
 *    batch folder: its summary, the resume scan and a merge of two shards; goal <= 2 s each.
 *
 * Needs a Docker engine and the busybox base image (bash .ci/setup-docker.sh). Run: npm run bench
 * BENCH_ITERATIONS, BENCH_BLOCKS and BENCH_STARTS change the counts; BENCH_PHASES=1 prints the
 * time between the journal's events of each azlon run (where an iteration's time goes).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, ROOT } from "../test/helpers/cli.js";
import { FakeOpenAI, generation } from "../test/helpers/fake-openai.js";
import { CONCURRENCY_GOAL, concurrencyFigure, FOLDER_GOAL_MS, folderFigures } from "./batch.js";
import { cacheMountFigure } from "./cache-mount.js";
import { editFigure, estimateTokens } from "./edit-tokens.js";
import { FROM_GOALS, fromFigures } from "./from.js";
import { PREFIX_GOAL, prefixScenarios } from "./prefix.js";

const IMAGE = process.env.AZLON_TEST_BUSYBOX_IMAGE ?? "busybox:latest";
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 6);
/** Alternating blocks of azlon and docker CLI iterations. */
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 3);
const STARTS = Number(process.env.BENCH_STARTS ?? 20);
const DOCKERFILE = `FROM ${IMAGE}\nCOPY msg.txt /msg.txt\nCMD ["cat", "/msg.txt"]\n`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const ms = (n: number) => `${n.toFixed(0)} ms`;

/** Per-iteration times of an azlon run, from its journal (changes.applied to changes.applied). */
async function azlonIterations(extra: string[] = []): Promise<number[]> {
  const server = new FakeOpenAI();
  await server.start();
  let round = 0;
  server.enqueue(generation(DOCKERFILE, { "msg.txt": "round 0\n" }));
  server.fallback = () => {
    round++;
    return {
      content: {
        passed: false,
        reason: "one more round",
        evidence: [],
        dockerfile: null,
        files: [{ path: "msg.txt", content: `round ${round}\n` }],
        delete: null,
      },
    };
  };
  const cwd = mkdtempSync(join(tmpdir(), "azlon-bench-"));
  try {
    const child = spawn(
      process.execPath,
      [
        BIN,
        "run",
        "--prompt",
        "bench",
        "--tests",
        "bench",
        "--base-url",
        server.url,
        "--model",
        "gpt-test",
        "--max-iterations",
        String(ITERATIONS + 1),
        "--json",
        "--out",
        join(cwd, "runs"),
        ...extra,
      ],
      {
        cwd,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, OPENAI_API_KEY: "sk-bench-000000" },
        stdio: "pipe",
      },
    );
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    await new Promise((resolve) => child.on("close", resolve));
    const result = JSON.parse(stdout);
    const events = readFileSync(join(result.runDir, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    if (process.env.BENCH_PHASES) {
      let last = 0;
      const parts: string[] = [];
      for (const e of events) {
        const at = Date.parse(e.at);
        if (last) parts.push(`${e.type}${e.phase ? `:${e.phase}` : ""} +${at - last}`);
        last = at;
      }
      console.log(parts.join("\n"));
    }
    const applied = events.filter((e) => e.type === "changes.applied").map((e) => Date.parse(e.at));
    const finished = Date.parse(events.at(-1).at);
    const marks = [...applied, finished];
    const times = marks.slice(1).map((t, i) => t - (marks[i] as number));
    spawnSync("docker", ["rmi", "-f", result.image], { stdio: "ignore" });
    return times.slice(1); // the first round warms the build cache
  } finally {
    await server.stop();
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** The same round by hand: change a file, docker build, docker run with the same limits. */
function dockerCliIterations(): number[] {
  const dir = mkdtempSync(join(tmpdir(), "azlon-bench-cli-"));
  const tag = `azlon-bench-cli:${process.pid}`;
  writeFileSync(join(dir, "Dockerfile"), DOCKERFILE);
  const times: number[] = [];
  const built = new Set<string>();
  try {
    for (let i = 0; i <= ITERATIONS; i++) {
      writeFileSync(join(dir, "msg.txt"), `round ${i}\n`);
      const started = performance.now();
      const id = execFileSync("docker", ["build", "-q", "-t", tag, dir], {
        encoding: "utf8",
        env: { ...process.env, DOCKER_BUILDKIT: "0" },
        stdio: ["ignore", "pipe", "ignore"], // the legacy builder's deprecation notice
      }).trim();
      built.add(id);
      execFileSync(
        "docker",
        [
          "run",
          "--rm",
          "--network",
          "none",
          "--memory",
          "1g",
          "--memory-swap",
          "1g",
          "--cpus",
          "1",
          "--pids-limit",
          "256",
          "--cap-drop",
          "ALL",
          "--security-opt",
          "no-new-privileges",
          tag,
        ],
        { stdio: "pipe" },
      );
      if (i > 0) times.push(performance.now() - started);
    }
  } finally {
    // Each build re-tags; the images it leaves untagged go too.
    spawnSync("docker", ["rmi", "-f", tag, ...built], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

const BINARY = join(ROOT, "dist/azlon");

function startTimes(args: string[], command = process.execPath): number[] {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const started = performance.now();
    const r = spawnSync(command, args, { stdio: "ignore" });
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

function check(name: string, ratio: number, goal: number, at: "most" | "least" = "most"): string {
  const met = at === "most" ? ratio <= goal : ratio >= goal;
  return `${name}: ${ratio.toFixed(2)} (goal ${at === "most" ? "<=" : ">="} ${goal.toFixed(2)}) ${met ? "MET" : "NOT MET"}`;
}

const OVERHEAD_GOAL = 0.85;

try {
  execFileSync("docker", ["image", "inspect", IMAGE], { stdio: "ignore" });
} catch {
  console.error(`bench: needs a Docker engine with ${IMAGE}; run: bash .ci/setup-docker.sh`);
  process.exit(3);
}
if (!readdirSync(join(BIN, "../../dist")).includes("entry.js")) {
  console.error("bench: build first (npm run build)");
  process.exit(2);
}
if (!existsSync(BINARY)) {
  console.error("bench: build the single executable first (npm run build:binary)");
  process.exit(2);
}

console.log(`azlon benchmark · ${new Date().toISOString()} · node ${process.version}`);
console.log(
  `per-iteration: ${BLOCKS} alternating blocks of ${ITERATIONS} measured iterations each (after one warm-up)`,
);
// Interleave, several times, so that drift in the machine's load hits both sides alike.
const cli = dockerCliIterations();
const azlon: number[] = [];
const azlonBuildKit: number[] = [];
for (let block = 0; block < BLOCKS; block++) {
  azlon.push(...(await azlonIterations()));
  azlonBuildKit.push(...(await azlonIterations(["--builder", "buildkit"])));
  cli.push(...dockerCliIterations());
}
const azlonMedian = median(azlon);
const buildKitMedian = median(azlonBuildKit);
const cliMedian = median(cli);
console.log(
  `  azlon (apply + build + run + judge, instant model): median ${ms(azlonMedian)}  [${azlon.map(ms).join(", ")}]`,
);
console.log(
  `  azlon with --builder buildkit:                     median ${ms(buildKitMedian)}  [${azlonBuildKit.map(ms).join(", ")}]`,
);
console.log(
  `  docker CLI (docker build + docker run):            median ${ms(cliMedian)}  [${cli.map(ms).join(", ")}]`,
);
const cache = await cacheMountFigure(IMAGE);
console.log("rebuild after one more line in a 6-package requirements.txt (each package: 1 s of work):");
console.log(`  with RUN --mount=type=cache (BuildKit): ${ms(cache.withMount)}`);
console.log(`  without a cache mount (classic):        ${ms(cache.without)}`);

const help = startTimes([BIN, "--help"]);
const binary = startTimes(["--help"], BINARY);
const bare = startTimes(["-e", "0"]);
const size = statSync(BINARY).size / 1024 / 1024;
console.log(`start-up: ${STARTS} runs each`);
console.log(`  azlon --help:            median ${ms(median(help))}`);
console.log(
  `  dist/azlon --help (SEA): median ${ms(median(binary))}  (${size.toFixed(1)} MiB, no Node needed)`,
);
console.log(`  node -e 0:               median ${ms(median(bare))}`);
const edits = editFigure();
const wholeTokens = estimateTokens(edits.wholeBytes);
const editTokens = estimateTokens(edits.editBytes);
console.log(
  `one-line fix in a ${(edits.fileBytes / 1024).toFixed(0)} KB file, verdict output tokens (estimate: reply JSON bytes / 4):`,
);
console.log(`  as the whole file: ${wholeTokens} tokens (${edits.wholeBytes} bytes)`);
console.log(`  as one edit:       ${editTokens} tokens (${edits.editBytes} bytes)`);
const prefix = prefixScenarios();
console.log("prefix share of consecutive judge requests (JSON body), rounds 2..5 against the one before:");
for (const { name, figures } of prefix) {
  console.log(
    `  ${name} (${figures.projectBytes} bytes in 7 files): [${figures.shares.map((s) => s.toFixed(3)).join(", ")}]; ` +
      `requests ${figures.requestBytes.map((b) => `${(b / 1024).toFixed(1)}`).join(", ")} KiB`,
  );
}
const from = await fromFigures(IMAGE);
console.log("existing projects (--from), a 3,000-file 30 MB repository, a one-line fix in a deep file:");
console.log(`  snapshot + patch:             ${ms(from.snapshotMs)}`);
console.log(`  first request:                ${from.first} tokens (JSON bytes / 4)`);
console.log(
  `  requests and replies to pass: ${from.total} tokens (${(from.total / from.first).toFixed(2)} x the first)`,
);
console.log(`  start to first request:       plain ${ms(from.startPlainMs)}, --from ${ms(from.startFromMs)}`);
const within = (name: string, value: number, goal: number, unit: string) =>
  `${name}: ${value.toFixed(0)} ${unit} (goal <= ${goal} ${unit}) ${value <= goal ? "MET" : "NOT MET"}`;
const batch = await concurrencyFigure();
console.log("azlon batch: 8 tasks whose programs take 2 s, instant model, --concurrency 4:");
console.log(
  `  one task alone: median ${ms(batch.single)} · 8 tasks: median ${ms(batch.eight)} · ideal ${ms(2 * batch.single)}`,
);
const folder = folderFigures();
console.log("a 1,000-task batch folder (start-up included):");
console.log(
  `  batch show: ${ms(folder.show)} · resume scan: ${ms(folder.resume)} · merge of 2 shards: ${ms(folder.merge)}`,
);
console.log("");
console.log(check("overhead ratio (azlon / docker CLI)", azlonMedian / cliMedian, OVERHEAD_GOAL));
console.log(
  check(
    "overhead ratio with BuildKit (azlon --builder buildkit / docker CLI)",
    buildKitMedian / cliMedian,
    OVERHEAD_GOAL,
  ),
);
console.log(check("start-up ratio (azlon --help / node -e 0)", median(help) / median(bare), 2.0));
console.log(
  check("binary start-up ratio (dist/azlon --help / node -e 0)", median(binary) / median(bare), 1.3),
);
console.log(check("edit output ratio (one edit / whole file)", editTokens / wholeTokens, 0.1));
for (const { name, figures } of prefix) {
  console.log(
    check(`prefix share, lowest round (${name})`, Math.min(...figures.shares), PREFIX_GOAL, "least"),
  );
}
console.log(within("--from snapshot + patch", from.snapshotMs, FROM_GOALS.snapshotMs, "ms"));
console.log(within("--from first request", from.first, FROM_GOALS.firstTokens, "tokens"));
console.log(within("--from tokens to the pass", from.total, FROM_GOALS.totalTokens, "tokens"));
console.log(within("--from added start", from.startFromMs - from.startPlainMs, FROM_GOALS.startMs, "ms"));
console.log(
  check("batch concurrency ratio (8 tasks at 4 / two single-task times)", batch.ratio, CONCURRENCY_GOAL),
);
for (const [name, value] of Object.entries(folder)) {
  console.log(check(`1,000-task folder: ${name} in seconds`, value / 1000, FOLDER_GOAL_MS / 1000));
}
