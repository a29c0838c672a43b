import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import {
  batchCli,
  generationsByTask,
  hasPhase,
  printer,
  routeByTask,
  runFoldersOf,
  statuses,
  taskLine,
} from "../helpers/batch.js";
import { runCli, spawnCli } from "../helpers/cli.js";
import { describeDocker, leftovers } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { fail, generation, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { expectNoSecret, readRun } from "../helpers/run-folder.js";
import { expectValid } from "../helpers/schema.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-batch-7c6b5a4d3e";
const { server, images } = loopbackModel();

const batch = batchCli(server, images, KEY);

describeDocker("azlon batch (real engine, loopback model)", () => {
  it("mixed outcomes are reported truly: --json, batch.json, summary.md, JUnit and the step summary; --retry-failed starts only the failed", async () => {
    const cwd = tempDir({
      "tasks.jsonl": [
        taskLine("good"),
        taskLine("bad", { checks: ['test "$(sh /run.sh)" = "bad, fixed"'], options: { maxIterations: 1 } }),
        taskLine("broken"),
      ].join("\n"),
    });
    routeByTask(server, {
      good: { generate: printer("hello from good"), judge: [pass(["hello from good"])] },
      bad: { generate: printer("bad, broken"), judge: [fail("it prints bad, broken", {}, ["bad, broken"])] },
      // A model that refuses every time: this task's error, which must not stop the others.
      broken: { generate: { refusal: "I cannot help with that" } },
    });
    const r = await batch(
      ["tasks.jsonl", "--concurrency", "2", "--json", "--junit", "reports/junit.xml"],
      cwd,
      {
        GITHUB_STEP_SUMMARY: join(cwd, "step-summary.md"),
      },
    );
    expect(r.code, r.stderr).toBe(1);
    expectValid("batch-summary.schema.json", r.json);
    expect(statuses(r.json)).toEqual({ good: "passed", bad: "failed", broken: "error" });
    expect(r.json.totals).toMatchObject({ tasks: 3, passed: 1, failed: 1, error: 1 });
    expect(r.json.totals.passAt1).toBeCloseTo(1 / 3, 9);
    for (const t of r.json.tasks) expectValid("result.schema.json", t.attempts[0]);
    expect(r.json.tasks[2].attempts[0]).toMatchObject({ status: "error", errorCategory: "model" });
    const dir = join(cwd, "azlon-batches/tasks");
    expect(r.json.batchDir).toBe(dir);
    const file = JSON.parse(readFileSync(join(dir, "batch.json"), "utf8"));
    expectValid("batch.schema.json", file);
    expect(file).toMatchObject({
      status: "finished",
      stopReason: null,
      options: { concurrency: 2, attempts: 1 },
    });
    const junit = readFileSync(join(cwd, "reports/junit.xml"), "utf8");
    expect(junit).toContain('tests="3" failures="1" errors="1" skipped="0"');
    expect(junit).toContain('name="bad (attempt 1)"');
    const summary = readFileSync(join(dir, "summary.md"), "utf8");
    expect(summary).toContain("### azlon batch: 1 of 3 tasks passed");
    expect(summary).toMatch(/\| broken \| ⚠️ error \| 0\/1 \|/);
    expect(readFileSync(join(cwd, "step-summary.md"), "utf8")).toBe(summary);
    expectNoSecret(dir, KEY);

    // The same command again with --retry-failed: good is kept, bad and broken start anew.
    const before = generationsByTask(server);
    routeByTask(server, {
      bad: { generate: printer("bad, fixed"), judge: [pass(["bad, fixed"])] },
      broken: { generate: printer("hello from broken"), judge: [pass(["hello from broken"])] },
    });
    const again = await batch(["tasks.jsonl", "--concurrency", "2", "--retry-failed", "--json"], cwd);
    expect(again.code, again.stderr).toBe(0);
    expect(statuses(again.json)).toEqual({ good: "passed", bad: "passed", broken: "passed" });
    const after = generationsByTask(server);
    expect(after.good).toBe(before.good);
    expect(after.bad).toBe((before.bad ?? 0) + 1);
    // The failed attempt's run folder stays beside the new one.
    expect(runFoldersOf(join(dir, "runs/bad/1"))).toHaveLength(2);
  });

  it("a task whose check image is not on the engine, or whose build fails, ends alone: the others pass, each reported with its reason", {
    timeout: 120_000,
  }, async () => {
    const missing = "127.0.0.1:9/azlon-test-no-such-image:0";
    const cwd = tempDir({
      "tasks.jsonl": [
        taskLine("fine"),
        taskLine("no-image", { checks: ["true"], options: { checkImage: missing } }),
        taskLine("unbuildable", { options: { maxIterations: 1 } }),
        taskLine("also-fine"),
      ].join("\n"),
    });
    routeByTask(server, {
      fine: { generate: printer("hello from fine"), judge: [pass(["hello from fine"])] },
      "no-image": { generate: printer("never asked") },
      unbuildable: {
        generate: generation(`FROM ${BUSYBOX}\nRUN echo the build step failed && exit 3\n`, {}),
        judge: [fail("it does not build")],
      },
      "also-fine": { generate: printer("hello from also-fine"), judge: [pass(["hello from also-fine"])] },
    });
    const r = await batch(["tasks.jsonl", "--concurrency", "2", "--json", "--junit", "junit.xml"], cwd);
    expect(r.code, r.stderr).toBe(1);
    expectValid("batch-summary.schema.json", r.json);
    expect(statuses(r.json)).toEqual({
      fine: "passed",
      "no-image": "error",
      unbuildable: "failed",
      "also-fine": "passed",
    });
    const [, noImage, unbuildable] = r.json.tasks;
    expect(noImage.attempts[0]).toMatchObject({ status: "error", runDir: null });
    expect(noImage.attempts[0].reason).toContain(
      `the task cannot start: the image ${missing} (--check-image)`,
    );
    expect(unbuildable.attempts[0]).toMatchObject({ status: "failed", stopReason: "max-iterations" });
    expect(unbuildable.attempts[0].reason).toMatch(/build/i);
    // Progress counts it as done, with its reason.
    expect(r.stderr).toMatch(/\[\d\/4\] .* no-image #1 error after 0 iterations .* the task cannot start/);
    // The task that cannot start never reached the model.
    expect(generationsByTask(server)["no-image"]).toBeUndefined();
    const junit = readFileSync(join(cwd, "junit.xml"), "utf8");
    expect(junit).toContain('tests="4" failures="1" errors="1"');
    const dir = join(cwd, "azlon-batches/tasks");
    expect(readFileSync(join(dir, "summary.md"), "utf8")).toContain("### azlon batch: 2 of 4 tasks passed");

    // An image every task names (the config file's typo) is a usage error, before any request.
    const asked = server.chatRequests.length;
    writeFileSync(
      join(cwd, "every.jsonl"),
      ["a", "b"].map((id) => taskLine(id, { checks: ["true"], options: { checkImage: missing } })).join("\n"),
    );
    const all = await batch(["every.jsonl"], cwd);
    expect(all.code, all.stderr).toBe(2);
    expect(all.stderr).toContain(`the image ${missing} (--check-image) is not on the Docker engine`);
    expect(server.chatRequests).toHaveLength(asked);
  });

  it("three shards run every task once and merge into one batch", { timeout: 180_000 }, async () => {
    const ids = ["alpha", "bravo", "charlie", "delta", "echo"];
    const cwd = tempDir({ "tasks.jsonl": ids.map((id) => taskLine(id)).join("\n") });
    routeByTask(
      server,
      Object.fromEntries(
        ids.map((id) => [id, { generate: printer(`hi ${id}`), judge: [pass([`hi ${id}`])] }]),
      ),
    );
    const ran: string[][] = [];
    for (const i of [1, 2, 3]) {
      const r = await batch(["tasks.jsonl", "--shard", `${i}/3`, "--out", `shard-${i}`, "--json"], cwd);
      expect(r.code, r.stderr).toBe(0);
      ran.push(r.json.tasks.map((t: { id: string }) => t.id));
    }
    expect(ran.flat().sort()).toEqual([...ids].sort());
    expect(Math.max(...ran.map((s) => s.length)) - Math.min(...ran.map((s) => s.length))).toBeLessThanOrEqual(
      1,
    );
    expect(generationsByTask(server)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
    const merged = await runCli(
      ["batch", "merge", "shard-1", "shard-2", "shard-3", "--out", "all", "--json"],
      { cwd },
    );
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stderr).toBe("");
    const summary = JSON.parse(merged.stdout);
    expect(summary.tasks.map((t: { id: string }) => t.id).sort()).toEqual([...ids].sort());
    expect(summary.totals).toMatchObject({ tasks: 5, passed: 5, passAt1: 1 });
  });

  it("kill -9 mid-batch, then the same command: nothing generated twice, the killed runs resumed, nothing left running", {
    timeout: 180_000,
  }, async () => {
    const ids = ["one", "two", "three", "four"];
    const cwd = tempDir({ "tasks.jsonl": ids.map((id) => taskLine(id)).join("\n") });
    routeByTask(
      server,
      Object.fromEntries(
        ids.map((id) => [id, { generate: printer(`done ${id}`, 4), judge: [pass([`done ${id}`])] }]),
      ),
    );
    const args = [
      "batch",
      "tasks.jsonl",
      "--concurrency",
      "2",
      "--base-url",
      server.url,
      "--model",
      "gpt-test",
    ];
    const dir = join(cwd, "azlon-batches/tasks");
    const first = spawnCli(args, { cwd, env: { OPENAI_API_KEY: KEY } });
    // Both runs in flight have their projects and are running their 4-second programs.
    for (let i = 0; i < 300; i++) {
      const running = ids.filter((id) => {
        const attempt = join(dir, "runs", id, "1");
        return existsSync(attempt) && runFoldersOf(attempt).some((run) => hasPhase(run, "run"));
      });
      if (running.length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // A second batch on the same folder refuses at once while the first runs.
    const second = await runCli(args, { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(
      `the batch in ${dir} is being run by azlon batch (process ${first.child.pid}`,
    );
    first.child.kill("SIGKILL");
    await first.done;
    const generatedBefore = generationsByTask(server);
    expect(Object.values(generatedBefore).reduce((a, b) => a + b, 0)).toBe(2);

    const rerun = await batch(["tasks.jsonl", "--concurrency", "2", "--json"], cwd);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(statuses(rerun.json)).toEqual(Object.fromEntries(ids.map((id) => [id, "passed"])));
    expect(generationsByTask(server)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
    for (const id of Object.keys(generatedBefore)) {
      const runs = runFoldersOf(join(dir, "runs", id, "1"));
      expect(runs).toHaveLength(1);
      const state = readRun(runs[0] as string);
      expect(state.legs.map((l) => l.status)).toEqual(["interrupted", "passed"]);
    }
    for (const t of rerun.json.tasks) {
      const left = await leftovers(t.attempts[0].runId);
      expect(left.containers).toBe(0);
    }
  });

  it("Ctrl-C stops the attempts in flight (exit 130); the same command resumes them", {
    timeout: 120_000,
  }, async () => {
    const ids = ["i1", "i2"];
    const cwd = tempDir({ "tasks.jsonl": ids.map((id) => taskLine(id)).join("\n") });
    routeByTask(
      server,
      Object.fromEntries(
        ids.map((id) => [id, { generate: printer(`done ${id}`, 4), judge: [pass([`done ${id}`])] }]),
      ),
    );
    const dir = join(cwd, "azlon-batches/tasks");
    const args = [
      "batch",
      "tasks.jsonl",
      "--concurrency",
      "2",
      "--base-url",
      server.url,
      "--model",
      "gpt-test",
    ];
    const running = spawnCli(args, { cwd, env: { OPENAI_API_KEY: KEY } });
    for (let i = 0; i < 300; i++) {
      const started = ids.filter((id) => {
        const attempt = join(dir, "runs", id, "1");
        return existsSync(attempt) && runFoldersOf(attempt).some((run) => hasPhase(run, "run"));
      });
      if (started.length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    running.child.kill("SIGINT");
    const stopped = await running.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(JSON.parse(readFileSync(join(dir, "batch.json"), "utf8"))).toMatchObject({
      status: "stopped",
      stopReason: "interrupted",
      tasks: [{ status: "interrupted" }, { status: "interrupted" }],
    });
    const again = await batch(["tasks.jsonl", "--concurrency", "2", "--json"], cwd);
    expect(again.code, again.stderr).toBe(0);
    expect(generationsByTask(server)).toEqual({ i1: 1, i2: 1 });
  });

  it("the endpoint down for all stops the batch with exit 3 after the first failures; back up, the same command finishes", {
    timeout: 180_000,
  }, async () => {
    const ids = ["e1", "e2", "e3", "e4", "e5"];
    const cwd = tempDir({ "tasks.jsonl": ids.map((id) => taskLine(id)).join("\n") });
    const { createServer } = await import("node:http");
    const { listenLoopback, closeServer } = await import("../helpers/http-server.js");
    const closed = createServer();
    const port = await listenLoopback(closed);
    await closeServer(closed);
    const down = await runCli(
      [
        "batch",
        "tasks.jsonl",
        "--concurrency",
        "1",
        "--model-retries",
        "0",
        "--base-url",
        `http://127.0.0.1:${port}/v1`,
        "--model",
        "gpt-test",
      ],
      { cwd, env: { OPENAI_API_KEY: KEY } },
    );
    expect(down.code, down.stderr).toBe(3);
    expect(down.stderr).toContain("cannot reach the endpoint");
    expect(down.stderr).toContain("the batch stopped: every task needs it");
    const dir = join(cwd, "azlon-batches/tasks");
    const tried = ids.filter((id) => existsSync(join(dir, "runs", id, "1", "result.json")));
    expect(tried).toEqual(["e1", "e2", "e3"]);
    expect(JSON.parse(readFileSync(join(dir, "batch.json"), "utf8"))).toMatchObject({
      status: "stopped",
      stopReason: "environment",
    });

    routeByTask(
      server,
      Object.fromEntries(ids.map((id) => [id, { generate: printer(id), judge: [pass([id])] }])),
    );
    const up = await batch(["tasks.jsonl", "--concurrency", "2", "--json"], cwd);
    expect(up.code, up.stderr).toBe(0);
    expect(up.json.totals).toMatchObject({ tasks: 5, passed: 5 });
    // The attempts the outage ended were carried on in their own run folders, not started again.
    for (const id of tried) expect(runFoldersOf(join(dir, "runs", id, "1"))).toHaveLength(1);
  });

  it("the Docker engine down: exit 3 before any request", async () => {
    const cwd = tempDir({ "tasks.jsonl": taskLine("x") });
    const r = await batch(["tasks.jsonl"], cwd, { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    expect(r.code).toBe(3);
    expect(server.chatRequests).toHaveLength(0);
  });

  it("a batch budget: --max-cost stops the batch once spent (exit 1), and the same command with more carries it on", {
    timeout: 120_000,
  }, async () => {
    const ids = ["c1", "c2", "c3"];
    const cwd = tempDir({ "tasks.jsonl": ids.map((id) => taskLine(id)).join("\n") });
    const costly = (reply: ReturnType<typeof pass>) => ({
      ...reply,
      usage: { prompt: 1_000_000, completion: 0 },
    });
    routeByTask(
      server,
      Object.fromEntries(
        ids.map((id) => [id, { generate: costly(printer(id)), judge: [costly(pass([id]))] }]),
      ),
    );
    // gpt-4.1-mini's input price is $0.40 per million tokens: one task costs $0.80.
    const args = ["tasks.jsonl", "--concurrency", "1", "--json", "--model", "gpt-4.1-mini"];
    const stopped = await batch([...args, "--max-cost", "1"], cwd);
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stderr).toContain("the batch's cost budget is reached");
    const dir = join(cwd, "azlon-batches/tasks");
    expect(JSON.parse(readFileSync(join(dir, "batch.json"), "utf8"))).toMatchObject({
      stopReason: "max-cost",
    });
    expect(stopped.json.tasks.filter((t: { status: string }) => t.status === "passed").length).toBeLessThan(
      3,
    );
    const more = await batch([...args, "--max-cost", "10"], cwd);
    expect(more.code, more.stderr).toBe(0);
    expect(more.json.totals.passed).toBe(3);
    expect(Object.values(generationsByTask(server)).every((n) => n === 1)).toBe(true);
  });
});
