import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ENGINE_STARTS_FROM } from "../../src/batch/run-options.js";
import { kindOf, printer, routeByTask, taskOf } from "../helpers/batch.js";
import { ROOT, runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { fail, generation, pass } from "../helpers/fake-openai.js";
import { BUSYBOX, PYTHON } from "../helpers/images.js";
import { expectValid } from "../helpers/schema.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-batch-tasks-4d3c2b1a";
const { server, images } = loopbackModel();
/** The shipped tasks name python:3.12-slim; this engine has a local Python image instead. */
const IMAGE_MAP = `python:3.12-slim=${PYTHON}`;

/** A Harbor task as public task repositories lay them out: BusyBox, a verifier writing its reward. */
function harborTask(id: string, rewardFile: "reward.txt" | "reward.json"): Record<string, string> {
  const reward =
    rewardFile === "reward.txt"
      ? 'echo "$reward" > /logs/verifier/reward.txt'
      : 'echo "{\\"reward\\": $reward}" > /logs/verifier/reward.json';
  return {
    [`${id}/task.toml`]:
      'version = "1.0"\n[metadata]\ndifficulty = "easy"\n[verifier]\ntimeout_sec = 60.0\n[agent]\ntimeout_sec = 300.0\n[environment]\nbuild_timeout_sec = 120.0\ncpus = 1\nmemory_mb = 256\nallow_internet = false\n',
    [`${id}/instruction.md`]: `[task:${id}] Write /app/greeting.txt holding exactly: Hello, Harbor!\n`,
    [`${id}/environment/Dockerfile`]: `FROM ${BUSYBOX}\nWORKDIR /app\nCOPY notes.txt /app/notes.txt\n`,
    [`${id}/environment/notes.txt`]: "the task's starting files\n",
    [`${id}/tests/test.sh`]: `#!/bin/bash\nmkdir -p /logs/verifier\nif [ "$(cat /app/greeting.txt)" = "Hello, Harbor!" ]; then reward=1; else reward=0; fi\necho "greeting: $(cat /app/greeting.txt)"\n${reward}\n`,
    [`${id}/solution/solve.sh`]: "#!/bin/bash\necho 'Hello, Harbor!' > greeting.txt\n",
  };
}

/** A model's project for a Harbor task: the environment's image with the greeting baked in. */
const greeting = (text: string) =>
  generation(`FROM ${BUSYBOX}\nWORKDIR /app\nCOPY greeting.txt /app/greeting.txt\n`, {
    "greeting.txt": `${text}\n`,
  });

describeDocker("task formats through the engine: Harbor's reward, --oracle, and the shipped bench", () => {
  it("a Harbor task passes or fails by its reward (reward.txt and reward.json), and passes under --oracle with no request", {
    timeout: 180_000,
  }, async () => {
    const cwd = tempDir({
      ...harborTask("greet-txt", "reward.txt"),
      ...harborTask("greet-json", "reward.json"),
    });
    routeByTask(server, {
      "greet-txt": { generate: greeting("Hello, Harbor!") },
      "greet-json": { generate: greeting("Hello, world!"), judge: [fail("the verifier's reward is 0")] },
    });
    const r = await runCli(
      [
        "batch",
        ".",
        "--out",
        "model",
        "--max-iterations",
        "1",
        "--json",
        "--base-url",
        server.url,
        "--model",
        "gpt-test",
      ],
      { cwd, env: { OPENAI_API_KEY: KEY } },
    );
    expect(r.code, r.stderr).toBe(1);
    const summary = JSON.parse(r.stdout);
    for (const t of summary.tasks) images.push(t.attempts[0].image);
    expectValid("batch-summary.schema.json", summary);
    const byId = Object.fromEntries(summary.tasks.map((t: { id: string }) => [t.id, t]));
    expect(byId["greet-txt"]).toMatchObject({
      status: "passed",
      attempts: [{ verdict: "checks", checks: { passed: 1 } }],
    });
    expect(byId["greet-json"]).toMatchObject({
      status: "failed",
      attempts: [{ stopReason: "max-iterations", checks: { total: 1, passed: 0 } }],
    });
    // The reward decided, read from the verifier's own file; the model never saw the tests.
    const runDir = byId["greet-json"].attempts[0].runDir;
    expect(readFileSync(join(runDir, "iterations/01/check-1.log"), "utf8")).toContain(
      'reward.json: {"reward": 0}',
    );
    const firstPrompt = JSON.stringify(server.chatRequests[0]?.body?.messages);
    expect(firstPrompt).not.toContain("greeting: $(cat");
    // task.toml's limits became the run's.
    const state = JSON.parse(readFileSync(join(byId["greet-txt"].attempts[0].runDir, "run.json"), "utf8"));
    expect(state.options.limits).toMatchObject({
      memoryBytes: 256 * 2 ** 20,
      network: "none",
      buildTimeoutMs: 120_000,
    });
    expect(state.options.budgets.maxTimeMs).toBe(300_000);
    // The environment is the project the run starts from: the model is shown its files and Dockerfile.
    expect(state.options.source.dir).toBe(join(cwd, "greet-txt/environment"));
    const asked = server.chatRequests.find((q) => taskOf(q) === "greet-txt" && kindOf(q) === "generation");
    const shown = JSON.stringify(asked?.body?.messages);
    expect(shown).toContain("notes.txt");
    expect(shown).toContain("the task's starting files");
    expect(shown).toContain("COPY notes.txt /app/notes.txt");

    server.requests.length = 0;
    const oracle = await runCli(["batch", ".", "--oracle", "--json"], { cwd, env: {} });
    expect(oracle.code, oracle.stderr).toBe(0);
    const proven = JSON.parse(oracle.stdout);
    for (const t of proven.tasks) images.push(t.attempts[0].image);
    expect(proven.totals).toMatchObject({ tasks: 2, passed: 2, tokens: 0 });
    expect(server.requests).toHaveLength(0);
  });

  // Behind the seam of issue 16: on once the engine starts runs from a project (ENGINE_STARTS_FROM).
  it.skipIf(!ENGINE_STARTS_FROM)(
    "a task's project is where its run starts: the model sees it, the build has it",
    async () => {
      const cwd = tempDir({
        "tasks.jsonl": JSON.stringify({
          id: "from-project",
          prompt: "[task:from-project] print data.txt",
          tests: "it prints it",
          from: "proj",
        }),
        "proj/Dockerfile": `FROM ${BUSYBOX}\nCOPY . /app\nCMD ["cat", "/app/data.txt"]\n`,
        "proj/data.txt": "marker-from-project\n",
      });
      routeByTask(server, {
        "from-project": {
          generate: generation(`FROM ${BUSYBOX}\nCOPY . /app\nCMD ["cat", "/app/data.txt"]\n`, {}),
          judge: [pass(["marker-from-project"])],
        },
      });
      const r = await runCli(
        ["batch", "tasks.jsonl", "--json", "--base-url", server.url, "--model", "gpt-test"],
        {
          cwd,
          env: { OPENAI_API_KEY: KEY },
        },
      );
      const summary = JSON.parse(r.stdout);
      for (const t of summary.tasks) images.push(t.attempts[0].image);
      expect(r.code, r.stderr).toBe(0);
      // Only the project's data.txt holds this word: the model was shown the project itself.
      expect(JSON.stringify(server.chatRequests[0]?.body?.messages)).toContain("marker-from-project");
      const runDir = summary.tasks[0].attempts[0].runDir;
      const state = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8"));
      expect(state.options.source.dir).toBe(join(cwd, "proj"));
    },
  );

  it("--oracle finds a task whose reference does not pass its checks: the task fails, exit 1", async () => {
    const cwd = tempDir({
      "tasks.jsonl": [
        JSON.stringify({
          id: "sound",
          prompt: "p",
          tests: "t",
          checks: ['test "$(sh /run.sh)" = "42"'],
          solution: "good",
        }),
        JSON.stringify({
          id: "unsound",
          prompt: "p",
          tests: "t",
          checks: ['test "$(sh /run.sh)" = "42"'],
          solution: "bad",
        }),
      ].join("\n"),
      "good/Dockerfile": `FROM ${BUSYBOX}\nCOPY run.sh /run.sh\nCMD ["sh", "/run.sh"]\n`,
      "good/run.sh": "echo 42\n",
      "bad/Dockerfile": `FROM ${BUSYBOX}\nCOPY run.sh /run.sh\nCMD ["sh", "/run.sh"]\n`,
      "bad/run.sh": "echo 41\n",
    });
    const r = await runCli(["batch", "tasks.jsonl", "--oracle", "--json"], { cwd, env: {} });
    expect(r.code, r.stderr).toBe(1);
    const summary = JSON.parse(r.stdout);
    for (const t of summary.tasks) images.push(t.attempts[0].image);
    expect(summary.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ["sound", "passed"],
      ["unsound", "failed"],
    ]);
    expect(summary.tasks[1].attempts[0].reason).toContain(
      "the reference solution did not pass: 1 check failed (exit 1)",
    );
    expect(server.requests).toHaveLength(0);
  });

  it("bench --oracle passes every shipped task, printing its figures", { timeout: 420_000 }, async () => {
    const cwd = tempDir();
    const r = await runCli(["bench", "--oracle", "--concurrency", "3", "--json"], {
      cwd,
      env: { AZLON_IMAGE_MAP: IMAGE_MAP },
    });
    const summary = r.stdout.trim() ? JSON.parse(r.stdout) : null;
    for (const t of summary?.tasks ?? []) if (t.attempts[0]?.image) images.push(t.attempts[0].image);
    const failed = (summary?.tasks ?? []).filter((t: { status: string }) => t.status !== "passed");
    expect(
      failed,
      JSON.stringify(failed.map((t: { attempts: Array<{ reason: string }> }) => t.attempts[0]?.reason)),
    ).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    const shipped = (await import("node:fs")).readdirSync(join(ROOT, "bench/tasks"));
    expect(summary.tasks.map((t: { id: string }) => t.id).sort()).toEqual(shipped.sort());
    expect(shipped.length).toBeGreaterThanOrEqual(12);
    expect(summary.bench).toMatchObject({
      k: 1,
      passAt1: 1,
      passAtK: 1,
      meanIterations: 1,
      tokensPerTask: 0,
    });
    expect(server.requests).toHaveLength(0);
    // The same command again runs nothing and says the same.
    const again = await runCli(["bench", "--oracle"], {
      cwd,
      env: { AZLON_IMAGE_MAP: IMAGE_MAP, DOCKER_HOST: "unix:///nonexistent.sock" },
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`✔ ${shipped.length} of ${shipped.length} tasks passed`);
    expect(again.stdout).toContain("iterations 1.00 on average");
  });

  it("bench with a model: each shipped task's prompt reaches the endpoint, its hidden checks do not", {
    timeout: 120_000,
  }, async () => {
    const cwd = tempDir();
    // A priced model, each request a million prompt tokens: $0.40 a request at gpt-4.1-mini's price.
    const usage = { prompt: 1_000_000, completion: 0 };
    server.fallback = (request) => ({
      ...(kindOf(request) === "generation" ? printer("not the answer") : fail("the checks failed")),
      usage,
    });
    const r = await runCli(
      [
        "bench",
        "--shard",
        "1/7",
        "--max-iterations",
        "1",
        "--json",
        "--base-url",
        server.url,
        "--model",
        "gpt-4.1-mini",
      ],
      { cwd, env: { OPENAI_API_KEY: KEY, AZLON_IMAGE_MAP: IMAGE_MAP } },
    );
    const summary = JSON.parse(r.stdout);
    for (const t of summary.tasks) if (t.attempts[0]?.image) images.push(t.attempts[0].image);
    expect(r.code, r.stderr).toBe(1);
    expect(summary.tasks.length).toBe(2);
    expect(summary.tasks.map((t: { status: string }) => t.status)).toEqual(["failed", "failed"]);
    const prompts = server.chatRequests.map((q) => JSON.stringify(q.body?.messages));
    // The held-out checks' text never reaches the model, only their names.
    for (const p of prompts) expect(p).not.toMatch(/PASS |def check\(|check\(\)/);
    expect(summary.bench).toMatchObject({ passAt1: 0, meanIterations: 1 });
    expect(summary.bench.tokensPerTask).toBeGreaterThan(0);
    expect(summary.bench.tokensPerPassedTask).toBeNull();
    expect(summary.totals.costUsd).toBeGreaterThan(0);
    expect(summary.bench.costUsdPerTask).toBeCloseTo(summary.totals.costUsd / 2, 9);
    expect(summary.bench.costUsdPerTask).toBeCloseTo(0.4 * (server.chatRequests.length / 2), 6);
    expect(summary.bench.costUsdPerPassedTask).toBeNull();
  });
});
