import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import {
  batchCli,
  generationsByTask,
  kindOf,
  printer,
  routeByTask,
  runFoldersOf,
  statuses,
  taskLine,
  taskOf,
} from "../helpers/batch.js";
import { spawnCli } from "../helpers/cli.js";
import { describeDocker, leftovers } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { FaultyEngine } from "../helpers/engine-proxy.js";
import { fail, pass } from "../helpers/fake-openai.js";
import { readRun } from "../helpers/run-folder.js";
import { expectValid } from "../helpers/schema.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-batch-limits-9e8d7c6b";
const { server, images } = loopbackModel();
const batch = batchCli(server, images, KEY);

const readBatch = (dir: string) => JSON.parse(readFileSync(join(dir, "batch.json"), "utf8"));

describeDocker("batch time, attempts, engine loss (real engine, loopback model)", () => {
  it("--max-time stops the batch once its time is spent (exit 1), the stopped and unstarted attempts reported as such; more time carries it on, nothing generated twice", {
    timeout: 180_000,
  }, async () => {
    const ids = ["t1", "t2", "t3"];
    const cwd = tempDir({ "tasks.jsonl": ids.map((id) => taskLine(id)).join("\n") });
    routeByTask(
      server,
      Object.fromEntries(
        ids.map((id) => [id, { generate: printer(`done ${id}`, 3), judge: [pass([`done ${id}`])] }]),
      ),
    );
    // Each task's program takes 3 s: two seconds end the batch inside the first task.
    const args = ["tasks.jsonl", "--concurrency", "1", "--json"];
    const stopped = await batch([...args, "--max-time", "2"], cwd);
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stderr).toContain("the batch's time budget is reached: 2 s");
    expectValid("batch-summary.schema.json", stopped.json);
    expect(statuses(stopped.json)).toEqual({ t1: "interrupted", t2: "pending", t3: "pending" });
    expect(stopped.json.tasks[0].attempts[0]).toMatchObject({
      status: "interrupted",
      stopReason: "interrupted",
    });
    expect(stopped.json.tasks[1].attempts).toEqual([]);
    expect(stopped.json.totals).toMatchObject({ tasks: 3, passed: 0 });
    const dir = join(cwd, "azlon-batches/tasks");
    const file = readBatch(dir);
    expectValid("batch.schema.json", file);
    expect(file).toMatchObject({ status: "stopped", stopReason: "max-time", options: { maxTimeMs: 2000 } });
    expect(file.elapsedMs).toBeGreaterThanOrEqual(2000);
    expect(existsSync(join(dir, "runs/t2"))).toBe(false);
    const summary = readFileSync(join(dir, "summary.md"), "utf8");
    expect(summary).toContain("max-time");
    expect(generationsByTask(server)).toEqual({ t1: 1 });

    // The budget counts every leg: 2 s are spent, 120 leave plenty for the rest.
    const more = await batch([...args, "--max-time", "120"], cwd);
    expect(more.code, more.stderr).toBe(0);
    expect(statuses(more.json)).toEqual({ t1: "passed", t2: "passed", t3: "passed" });
    expect(generationsByTask(server)).toEqual({ t1: 1, t2: 1, t3: 1 });
    // The stopped attempt was resumed in its own run folder, not started over.
    const runs = runFoldersOf(join(dir, "runs/t1/1"));
    expect(runs).toHaveLength(1);
    expect(readRun(runs[0] as string).legs.map((l) => l.status)).toEqual(["interrupted", "passed"]);
    expect(readBatch(dir)).toMatchObject({ status: "finished", stopReason: null });
  });

  it("--attempts 3: three independent runs of a task, each in its own folder; pass@1 and pass@3 by them, a JUnit testcase each", {
    timeout: 180_000,
  }, async () => {
    const cwd = tempDir({
      "tasks.jsonl": taskLine("flaky", {
        checks: ['test "$(sh /run.sh)" = "right"'],
        options: { maxIterations: 1 },
      }),
    });
    // One at a time, attempts go in order: the model gets it right on the second only.
    let generated = 0;
    server.fallback = (request) => {
      if (taskOf(request) !== "flaky") return { status: 500, error: { message: "not this task" } };
      if (kindOf(request) === "generation") return printer(++generated === 2 ? "right" : "wrong");
      return JSON.stringify(request.body?.messages).includes("right")
        ? pass(["right"])
        : fail("it prints wrong", {}, ["wrong"]);
    };
    const r = await batch(
      ["tasks.jsonl", "--attempts", "3", "--concurrency", "1", "--json", "--junit", "junit.xml"],
      cwd,
    );
    expect(r.code, r.stderr).toBe(0);
    expectValid("batch-summary.schema.json", r.json);
    expect(r.json.tasks).toHaveLength(1);
    expect(r.json.tasks[0].status).toBe("passed");
    expect(r.json.tasks[0].attempts.map((a: { status: string }) => a.status)).toEqual([
      "failed",
      "passed",
      "failed",
    ]);
    expect(r.json.totals).toMatchObject({ tasks: 1, passed: 1, failed: 0, passAtK: 1 });
    expect(r.json.totals.passAt1).toBeCloseTo(1 / 3, 9);
    expect(generated).toBe(3);
    const dir = join(cwd, "azlon-batches/tasks");
    for (const n of [1, 2, 3]) {
      const runs = runFoldersOf(join(dir, "runs/flaky", String(n)));
      expect(runs).toHaveLength(1);
      expect(r.json.tasks[0].attempts[n - 1].runDir).toBe(runs[0]);
    }
    expect(readBatch(dir).options.attempts).toBe(3);
    const junit = readFileSync(join(cwd, "junit.xml"), "utf8");
    expect(junit).toContain('tests="3" failures="2" errors="0"');
    for (const n of [1, 2, 3]) expect(junit).toContain(`name="flaky (attempt ${n})"`);
    expect(junit.match(/<testcase /g)).toHaveLength(3);
  });

  it("the engine dying mid-batch stops it with exit 3 after the first failures in a row; back, the same command carries it on", {
    timeout: 180_000,
  }, async () => {
    const ids = ["d1", "d2", "d3", "d4", "d5", "d6"];
    const cwd = tempDir({ "tasks.jsonl": ids.map((id) => taskLine(id)).join("\n") });
    routeByTask(
      server,
      Object.fromEntries(
        ids.map((id) => [id, { generate: printer(`hi ${id}`), judge: [pass([`hi ${id}`])] }]),
      ),
    );
    // The engine is reached through a proxy that goes away once the first attempt is done.
    const engine = new FaultyEngine(() => false);
    await engine.start();
    const dir = join(cwd, "azlon-batches/tasks");
    const args = [
      "batch",
      "tasks.jsonl",
      "--concurrency",
      "1",
      "--base-url",
      server.url,
      "--model",
      "gpt-test",
    ];
    const first = spawnCli(args, { cwd, env: { OPENAI_API_KEY: KEY, DOCKER_HOST: engine.dockerHost } });
    try {
      for (let i = 0; i < 600 && !existsSync(join(dir, "runs/d1/1/result.json")); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await engine.stop();
    }
    const cut = await first.done;
    expect(cut.code, cut.stderr).toBe(3);
    expect(cut.stderr).toMatch(/azlon: (cannot reach the Docker engine|the Docker engine failed)/);
    expect(cut.stderr).toContain("the batch stopped: every task needs it");
    const file = readBatch(dir);
    expect(file).toMatchObject({ status: "stopped", stopReason: "environment" });
    expect(file.tasks[0]).toMatchObject({ id: "d1", status: "passed" });
    // Three failures in a row stop it: the last tasks were never tried.
    const tried = ids.filter((id) => existsSync(join(dir, "runs", id, "1", "result.json")));
    expect(tried).toEqual(["d1", "d2", "d3", "d4"]);
    for (const t of file.tasks.slice(1, 4)) {
      expect(t.attempts[0].result).toMatchObject({ status: "error", errorCategory: "environment" });
    }

    // The engine back (reached directly), the same command: d1 kept, the rest carried on.
    const back = await batch(["tasks.jsonl", "--concurrency", "1", "--json"], cwd);
    expect(back.code, back.stderr).toBe(0);
    expect(statuses(back.json)).toEqual(Object.fromEntries(ids.map((id) => [id, "passed"])));
    expect(generationsByTask(server)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
    for (const id of tried) expect(runFoldersOf(join(dir, "runs", id, "1"))).toHaveLength(1);
    for (const t of back.json.tasks) expect((await leftovers(t.attempts[0].runId)).containers).toBe(0);
  });
});
