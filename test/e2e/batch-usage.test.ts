import { cpSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fakeBatchFolder, fakeResult, taskLine } from "../helpers/batch.js";
import { runCli } from "../helpers/cli.js";
import { loopbackModel } from "../helpers/e2e.js";
import { expectValid } from "../helpers/schema.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-batch-usage-1a2b3c";
const { server } = loopbackModel();

async function batch(args: string[], cwd: string, env: Record<string, string> = {}) {
  return runCli(["batch", ...args], { cwd, env: { OPENAI_API_KEY: KEY, ...env } });
}

describe("azlon batch: bad input is a usage error naming the line or folder, before any request", () => {
  it("two tasks of one id: exit 2, both lines named", async () => {
    const cwd = tempDir({ "tasks.jsonl": `${taskLine("a")}\n${taskLine("b")}\n${taskLine("a")}\n` });
    const r = await batch(["tasks.jsonl", "--base-url", server.url], cwd);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `azlon: two tasks have the id "a": ${join(cwd, "tasks.jsonl")} line 1 and ${join(cwd, "tasks.jsonl")} line 3`,
    );
    expect(server.requests).toHaveLength(0);
    expect(existsSync(join(cwd, "azlon-batches"))).toBe(false);
  });

  it("a task missing its tests, and a Harbor task.toml that cannot be read: exit 2 naming where", async () => {
    const cwd = tempDir({
      "tasks.jsonl": `${taskLine("a")}\n{"id": "b", "prompt": "p"}\n`,
      "harbor/broken/task.toml": "[verifier\ntimeout_sec = 1\n",
      "harbor/broken/instruction.md": "do it\n",
      "harbor/broken/environment/Dockerfile": "FROM busybox:latest\n",
      "harbor/broken/tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n",
    });
    const missing = await batch(["tasks.jsonl"], cwd);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${join(cwd, "tasks.jsonl")} line 2: the task is missing its tests`);
    const toml = await batch(["harbor"], cwd);
    expect(toml.code).toBe(2);
    expect(toml.stderr).toContain(`${join(cwd, "harbor/broken")}: task.toml cannot be read (line 1`);
    expect(server.requests).toHaveLength(0);
  });

  it.each(["0/3", "4/3", "two/3"])(
    "--shard %s: exit 2 with the 1-based form and Kubernetes' mapping",
    async (shard) => {
      const cwd = tempDir({ "tasks.jsonl": `${taskLine("a")}\n` });
      const r = await batch(["tasks.jsonl", "--shard", shard], cwd);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--shard`);
      expect(r.stderr).toContain("JOB_COMPLETION_INDEX is i - 1");
    },
  );

  it("--oracle on a task without a reference solution: exit 2 naming the line", async () => {
    const cwd = tempDir({ "tasks.jsonl": `${taskLine("a", { checks: ["true"] })}\n` });
    const r = await batch(["tasks.jsonl", "--oracle"], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${join(cwd, "tasks.jsonl")} line 1: --oracle needs the task's reference solution`,
    );
  });

  it("an empty shard has nothing to run: exit 0, and no engine is needed", async () => {
    const cwd = tempDir({ "tasks.jsonl": `${taskLine("a")}\n` });
    const r = await batch(["tasks.jsonl", "--shard", "2/2", "--json"], cwd, {
      DOCKER_HOST: "unix:///nonexistent.sock",
    });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expectValid("batch-summary.schema.json", summary);
    expect(summary).toMatchObject({ tasks: [], totals: { tasks: 0 } });
    expect(summary.batchDir).toBe(join(cwd, "azlon-batches/tasks-shard-2-of-2"));
  });
});

describe("azlon batch compare on known outcomes (Newcombe's example, 50 paired tasks)", () => {
  // Both passed 36, only B 12, only A 2, neither 0: the paper's first example.
  const ids = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, "0")}`);
  const outcome = (i: number): [boolean, boolean] =>
    i < 36 ? [true, true] : i < 48 ? [false, true] : [true, false];
  const side = (which: 0 | 1) =>
    ids.map((id, i) => ({
      id,
      results: [fakeResult(id, outcome(i)[which] ? "passed" : "failed", 1000, 0.01)],
    }));

  it("gives the difference, the exact McNemar p-value and the 95% interval; exit 0", async () => {
    const cwd = tempDir();
    fakeBatchFolder(join(cwd, "A"), side(0));
    fakeBatchFolder(join(cwd, "B"), [
      ...side(1),
      { id: "only-b", results: [fakeResult("only-b", "passed")] },
    ]);
    const r = await runCli(["batch", "compare", "A", "B", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout);
    expectValid("batch-compare.schema.json", c);
    expect(c.tasks).toHaveLength(50);
    expect(c.a).toMatchObject({ passed: 38, tasks: 50, passRate: 0.76, tokensPerPassedTask: 50_000 / 38 });
    expect(c.b).toMatchObject({ passed: 48, tasks: 50, passRate: 0.96 });
    expect(c.b.costUsdPerPassedTask).toBeCloseTo(0.5 / 48, 6);
    expect(c.difference).toBeCloseTo(0.2, 12);
    // 2 against 12 discordant tasks: 2 * (C(14,0) + C(14,1) + C(14,2)) / 2^14.
    expect(c.pValue).toBeCloseTo(212 / 16384, 12);
    expect(c.interval[0]).toBeCloseTo(0.0569, 4);
    expect(c.interval[1]).toBeCloseTo(0.3404, 4);

    const text = await runCli(["batch", "compare", "A", "B"], { cwd });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("difference     +0.200 (B - A); 95% interval [+0.057, +0.340]");
    expect(text.stdout).toContain(
      "p-value        0.0129 (exact McNemar on 14 discordant tasks: 12 passed only in B, 2 only in A)",
    );
    expect(text.stdout).toContain("(not compared: 0 only in A, 1 only in B)");
  });

  it("two batches that share no task: exit 2", async () => {
    const cwd = tempDir();
    fakeBatchFolder(join(cwd, "A"), [{ id: "x", results: [fakeResult("x", "passed")] }]);
    fakeBatchFolder(join(cwd, "B"), [{ id: "y", results: [fakeResult("y", "passed")] }]);
    const r = await runCli(["batch", "compare", "A", "B"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the two batches share no task");
  });
});

describe("azlon batch merge and show over batch folders", () => {
  it("merges shards, warns of a missing one, and refuses two shards that ran the same task, naming it", async () => {
    const cwd = tempDir();
    fakeBatchFolder(join(cwd, "s1"), [{ id: "a", results: [fakeResult("a", "passed")] }], {
      shard: { index: 1, total: 3 },
    });
    fakeBatchFolder(join(cwd, "s2"), [{ id: "b", results: [fakeResult("b", "failed")] }], {
      shard: { index: 2, total: 3 },
    });
    const r = await runCli(
      ["batch", "merge", "s1", "s2", "--out", "merged", "--json", "--junit", "merged/junit.xml"],
      { cwd },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("azlon: warning: shard 3/3 missing");
    const summary = JSON.parse(r.stdout);
    expectValid("batch-summary.schema.json", summary);
    expect(summary.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ["a", "passed"],
      ["b", "failed"],
    ]);
    const merged = JSON.parse(readFileSync(join(cwd, "merged/batch.json"), "utf8"));
    expectValid("batch.schema.json", merged);
    expect(merged.mergedFrom).toEqual([join(cwd, "s1"), join(cwd, "s2")]);
    expect(merged.tasks[0].attempts[0].dir).toBe("../s1/runs/a/1");
    expect(readFileSync(join(cwd, "merged/junit.xml"), "utf8")).toContain('tests="2" failures="1"');

    cpSync(join(cwd, "s1"), join(cwd, "s1-again"), { recursive: true });
    const twice = await runCli(["batch", "merge", "s1", "s2", "s1-again", "--out", "m2"], { cwd });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(
      `the task "a" was run by two of the batches: ${join(cwd, "s1")} and ${join(cwd, "s1-again")}`,
    );

    const show = await runCli(["batch", "show", "merged"], { cwd });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("1 of 2 tasks passed");
  });
});
