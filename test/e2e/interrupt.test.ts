import { join } from "node:path";
import { expect, it } from "vitest";
import { DEADLINE_MARGIN_MS } from "../../src/sandbox/owner.js";
import { runCli, spawnCli } from "../helpers/cli.js";
import { describeDocker, leftovers, removeLabelled } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { generation, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { containerLabels, expectOwnerLabels } from "../helpers/owners.js";
import { expectNoSecret, onlyRunDir, readJournal, readRun } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-interrupt-1234567890";
const { server, images } = loopbackModel();

const args = (out: string, extra: string[] = []) =>
  runArgs(server, out, extra, { prompt: "wait, then greet", tests: "prints done" });

/** Starts the CLI and sends `signal` once the program is running in its container. */
async function interruptWhileRunning(signal: NodeJS.Signals, times = 1) {
  const cwd = tempDir();
  const out = join(cwd, "runs");
  server.enqueue(
    generation(`FROM ${BUSYBOX}\nENTRYPOINT ["sh", "-c", "echo started; sleep 60; echo done"]\n`, {}),
  );
  let sent = false;
  const started = Date.now();
  const { done } = spawnCli(args(out), {
    cwd,
    env: { OPENAI_API_KEY: KEY },
    onStderr: (text, child) => {
      if (!sent && text.includes("running the program")) {
        sent = true;
        // Give the container a moment to start for real.
        setTimeout(() => {
          // Signals of one kind are not queued: the second goes 20 ms after the first.
          for (let i = 0; i < times; i++) setTimeout(() => child.kill(signal), i * 20);
        }, 700);
      }
    },
  });
  const result = await done;
  return { result, out, elapsed: Date.now() - started };
}

describeDocker("interrupts, kill -9 and resume (real engine, loopback model)", () => {
  it("Ctrl-C mid-run exits 130, removes the container and leaves run.json interrupted", async () => {
    const { result, out, elapsed } = await interruptWhileRunning("SIGINT");
    expect(result.code, result.stderr).toBe(130);
    expect(elapsed).toBeLessThan(30_000);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: "interrupted", stopReason: "interrupted" });
    images.push(JSON.parse(result.stdout).image);
    const dir = onlyRunDir(out);
    const state = readRun(dir);
    expect(state.status).toBe("interrupted");
    expect((await leftovers(state.runId)).containers).toBe(0);
    expect(readJournal(dir).at(-1)).toMatchObject({ type: "run.finished", status: "interrupted" });
    expect(result.stderr).toContain("azlon resume");
    expectNoSecret(out, KEY);

    // And `azlon resume` goes on from there (the program is cut short by a run timeout now).
    server.enqueue(pass(["started"]));
    const resumed = await runCli(["resume", dir, "--run-timeout", "2", "--json"], {
      cwd: out,
      env: { OPENAI_API_KEY: KEY },
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    const json = JSON.parse(resumed.stdout);
    images.push(json.image);
    expect(json).toMatchObject({ status: "passed", iterations: 1 });
    expect(readRun(dir).legs.map((l) => l.status)).toEqual(["interrupted", "passed"]);
  });

  it("a second Ctrl-C quits at once", async () => {
    const { result, out } = await interruptWhileRunning("SIGINT", 2);
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("press Ctrl-C again to quit at once");
    // What the first Ctrl-C would have cleaned is left to `resume`; tidy it here.
    const state = readRun(onlyRunDir(out));
    expect(state.status).toBe("running"); // it left before writing the end: that is "at once"
    await removeLabelled(state.runId);
  });

  it("SIGTERM is handled the same way, exiting 143 (128 + 15)", async () => {
    const { result, out } = await interruptWhileRunning("SIGTERM");
    expect(result.code, result.stderr).toBe(143);
    images.push(JSON.parse(result.stdout).image);
    const state = readRun(onlyRunDir(out));
    expect(state.status).toBe("interrupted");
    expect((await leftovers(state.runId)).containers).toBe(0);
  });

  it("kill -9 mid-run, then `azlon resume`, reaches passed; the journal shows both legs", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nENTRYPOINT ["sh", "-c", "sleep 2; echo done"]\n`, {}),
      pass(["done"]),
    );
    let killedAt = 0;
    const first = spawnCli(args(out), {
      cwd,
      env: { OPENAI_API_KEY: KEY },
      onStderr: (text, child) => {
        if (!killedAt && text.includes("running the program")) {
          killedAt = Date.now();
          setTimeout(() => child.kill("SIGKILL"), 500);
        }
      },
    });
    const killedResult = await first.done;
    expect(killedResult.signal).toBe("SIGKILL");
    const dir = onlyRunDir(out);
    const before = readRun(dir);
    expect(before.status).toBe("running"); // the process had no chance to write more
    expect(before.progress).toEqual({ iteration: 1, step: "execute" });
    // The orphan names its run, its dead owner and when it may be removed by anyone.
    const orphans = await containerLabels(before.runId);
    expect(orphans).toHaveLength(1);
    expectOwnerLabels(orphans[0] ?? {}, {
      runId: before.runId,
      pid: first.child.pid ?? 0,
      runTimeoutMs: before.options.limits.runTimeoutMs,
      marginMs: DEADLINE_MARGIN_MS,
      createdAt: killedAt,
    });

    const resumed = await runCli(["resume", dir, "--json"], { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(resumed.code, resumed.stderr).toBe(0);
    const json = JSON.parse(resumed.stdout);
    images.push(json.image);
    expect(json).toMatchObject({ status: "passed", iterations: 1, runDir: dir });
    const state = readRun(dir);
    expect(state.legs).toHaveLength(2);
    const starts = readJournal(dir).filter((e) => e.type === "run.started");
    expect(starts.map((e) => e.resumed)).toEqual([false, true]);
    // The container orphaned by kill -9 was removed by the resumed leg.
    expect((await leftovers(state.runId)).containers).toBe(0);
    expect(server.chatRequests).toHaveLength(2); // the generation was not asked for again
  });

  it("resume raises the iteration cap of a failed run and goes on from the pending fix", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "draft"]\n`, {}),
      {
        content: {
          passed: false,
          reason: "prints draft",
          evidence: ["draft"],
          dockerfile: `FROM ${BUSYBOX}\nENTRYPOINT ["echo", "final"]\n`,
          files: null,
          delete: null,
        },
      },
      pass(["final"]),
    );
    const failed = await runCli(args(out, ["--max-iterations", "1"]), {
      cwd,
      env: { OPENAI_API_KEY: KEY },
    });
    expect(failed.code).toBe(1);
    const dir = JSON.parse(failed.stdout).runDir;
    images.push(JSON.parse(failed.stdout).image);

    const resumed = await runCli(["resume", dir, "--max-iterations", "3", "--json"], {
      cwd,
      env: { OPENAI_API_KEY: KEY },
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: "passed", iterations: 2 });
    expect(readRun(dir).options.maxIterations).toBe(3);
  });

  it("resume refuses a folder that is not a run, and a run that passed", async () => {
    const cwd = tempDir({ "x/readme.txt": "hi" });
    const notRun = await runCli(["resume", "x"], { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(notRun.code).toBe(2);
    expect(notRun.stderr).toContain("not an azlon run folder");
    const done = tempDir({
      "run.json": JSON.stringify({
        version: 1,
        status: "passed",
        progress: { iteration: 1, step: "done" },
        options: {},
      }),
    });
    const passed = await runCli(["resume", done], { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(passed.code).toBe(2);
    expect(passed.stderr).toContain("passed already");
  });
});
