/**
 * Existing projects (--from), on a 3,000-file, 30 MB git repository with one typo in a deep file:
 * - snapshot and patch together (in process: the copy, the snapshot's tree, a one-line change,
 *   changes.patch): goal <= 2 s;
 * - a one-line fix through the built CLI against a loopback model that reads the file first, then
 *   fixes it with an edit: the first request's tokens (its JSON bytes / 4), goal <= 40,000; and
 *   every request's and reply's tokens to the pass, goal <= 3 x 40,000;
 * - what --from adds to a run's start: the time from spawning azlon to the first model request,
 *   a --from run against a plain one (median of a few), goal <= 1.5 s.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PATCH_FILE, preserveBlobs, UserProject } from "../src/workspace/source.js";
import { BIN } from "../test/helpers/cli.js";
import { FakeOpenAI, pass } from "../test/helpers/fake-openai.js";

export const FROM_GOALS = { snapshotMs: 2000, firstTokens: 40_000, totalTokens: 120_000, startMs: 1500 };

const FILES = 3000;
const FILE_BYTES = 10_000;
const DEEP = "src/service/reporting/render/greeting.sh";

/** A committed repository of FILES files of about FILE_BYTES each, and the deep file with its typo. */
function bigRepository(dir: string, image: string): void {
  for (let i = 0; i < FILES; i++) {
    const path = join(dir, `src/module${i % 60}/part${i % 7}/file${i}.txt`);
    mkdirSync(dirname(path), { recursive: true });
    const line = `record ${i}: value_${(i * 7919) % 1000} computed from input ${i}\n`;
    writeFileSync(path, line.repeat(Math.ceil(FILE_BYTES / line.length)));
  }
  mkdirSync(join(dir, dirname(DEEP)), { recursive: true });
  writeFileSync(join(dir, DEEP), 'echo "hello, wrld"\n');
  writeFileSync(
    join(dir, "Dockerfile"),
    `FROM ${image}\nCOPY ${DEEP} /greeting.sh\nENTRYPOINT ["sh", "/greeting.sh"]\n`,
  );
  writeFileSync(join(dir, ".dockerignore"), "src/module*\n");
  const git = (args: string[]) =>
    execFileSync("git", args, {
      cwd: dir,
      stdio: "ignore",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "b",
        GIT_AUTHOR_EMAIL: "b@b",
        GIT_COMMITTER_NAME: "b",
        GIT_COMMITTER_EMAIL: "b@b",
      },
    });
  git(["init", "-q"]);
  git(["add", "-A"]);
  git(["commit", "-q", "-m", "big"]);
}

/** Snapshot and patch of a one-line change, in process. */
async function snapshotAndPatch(repo: string): Promise<number> {
  const runDir = mkdtempSync(join(tmpdir(), "azlon-bench-run-"));
  try {
    const workspace = join(runDir, "workspace");
    const options = {
      dir: repo,
      dockerfile: null,
      branch: null,
      apply: false,
      keepDockerfile: false,
      maxBytes: 2 ** 30,
    };
    const project = new UserProject(options, runDir, workspace, null);
    const started = performance.now();
    const record = await project.snapshot(new AbortController().signal);
    await preserveBlobs(runDir, workspace, [DEEP]);
    writeFileSync(join(workspace, DEEP), 'echo "hello, world"\n');
    const delivery = await project.deliver(record, { runId: "bench", prompt: "fix", passed: false });
    const took = performance.now() - started;
    if (delivery.files.join() !== DEEP || !delivery.patch.endsWith(PATCH_FILE))
      throw new Error("bench: wrong patch");
    return took;
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

const tokens = (text: string) => Math.ceil(Buffer.byteLength(text) / 4);

/** Spawns `azlon run` against the server; resolves when it exits (or when `stop` says so). */
function azlon(args: string[], cwd: string, stop?: () => boolean): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, OPENAI_API_KEY: "sk-bench-000000" },
    stdio: "ignore",
  });
  return new Promise((resolve) => {
    const timer = stop
      ? setInterval(() => {
          if (stop()) child.kill("SIGKILL");
        }, 5)
      : null;
    child.on("close", () => {
      if (timer) clearInterval(timer);
      resolve();
    });
  });
}

/** The one-line fix, through the CLI: tokens of the first request and of all to the pass. */
async function oneLineFix(repo: string, server: FakeOpenAI, cwd: string) {
  server.requests.length = 0;
  const replies = [
    { content: { plan: "read it", dockerfile: null, files: [], edits: null, read: [DEEP] } },
    {
      content: {
        plan: "fix the typo",
        dockerfile: null,
        files: [],
        edits: [{ path: DEEP, search: "wrld", replace: "world" }],
        read: null,
      },
    },
    pass(["hello, world"]),
  ];
  server.enqueue(...replies);
  const task = ["--prompt", "fix the greeting the report renders", "--tests", "it prints hello, world"];
  await azlon(
    [
      "run",
      ...task,
      "--from",
      repo,
      "--base-url",
      server.url,
      "--model",
      "gpt-test",
      "--out",
      join(cwd, "runs"),
      "--json",
    ],
    cwd,
  );
  const bodies = server.chatRequests.map((r) => JSON.stringify(r.body));
  if (bodies.length !== replies.length) throw new Error(`bench: the fix took ${bodies.length} requests`);
  const first = tokens(bodies[0] ?? "");
  const total =
    bodies.reduce((n, b) => n + tokens(b), 0) +
    replies.reduce((n, r) => n + tokens(JSON.stringify(r.content)), 0);
  return { first, total };
}

/** Milliseconds from spawning azlon to its first model request. */
async function timeToFirstRequest(server: FakeOpenAI, cwd: string, extra: string[]): Promise<number> {
  server.requests.length = 0;
  server.clearQueue();
  const started = performance.now();
  let at = 0;
  await azlon(
    [
      "run",
      "--prompt",
      "p",
      "--tests",
      "t",
      "--base-url",
      server.url,
      "--model",
      "gpt-test",
      "--out",
      join(cwd, "runs"),
      ...extra,
    ],
    cwd,
    () => {
      if (server.chatRequests.length && !at) at = performance.now();
      return at > 0;
    },
  );
  return at - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export async function fromFigures(image: string, starts = 3) {
  const root = mkdtempSync(join(tmpdir(), "azlon-bench-from-"));
  const server = new FakeOpenAI();
  await server.start();
  try {
    const repo = join(root, "repo");
    mkdirSync(repo);
    bigRepository(repo, image);
    const snapshotMs = await snapshotAndPatch(repo);
    const fix = await oneLineFix(repo, server, root);
    // The first answer never comes: the run is stopped once it has asked.
    server.fallback = { delayMs: 60_000, content: "{}" };
    const plain: number[] = [];
    const from: number[] = [];
    for (let i = 0; i < starts; i++) {
      plain.push(await timeToFirstRequest(server, root, []));
      from.push(await timeToFirstRequest(server, root, ["--from", repo]));
    }
    return { snapshotMs, ...fix, startPlainMs: median(plain), startFromMs: median(from) };
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
