import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it, onTestFinished } from "vitest";
import { processStart } from "../../src/util/liveness.js";
import { readLock } from "../../src/workspace/lock.js";
import { BIN, baseEnv, runCli, spawnCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { generation, pass, type Reply } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { deadPid } from "../helpers/owners.js";
import { onlyRunDir, readJournal, readRun } from "../helpers/run-folder.js";
import { type Served, startServe } from "../helpers/serve.js";
import { tempDir, writeTree } from "../helpers/tmp.js";
import { liveProcess, underNonReapingParent, waitForState, zombie } from "../helpers/zombie.js";

const KEY = "sk-test-locks-1234567890";
const { server, images } = loopbackModel();
const env = { OPENAI_API_KEY: KEY };
const serveEnv = () => ({ ...env, OPENAI_BASE_URL: server.url, AZLON_MODEL: "gpt-test" });
const GREET = generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "hello"]\n`, {});
const served: Served[] = [];

afterEach(async () => {
  for (const s of served.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
    await s.done;
  }
});

async function serve(out: string): Promise<Served> {
  const s = await startServe(["--out", out], { cwd: join(out, ".."), env: serveEnv() });
  served.push(s);
  return s;
}

/** A model reply held open until release(): the run that asked for it is mid-run meanwhile. */
function heldReply(reply: Reply) {
  let release = () => {};
  const hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrived = () => {};
  const came = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  onTestFinished(() => release());
  return {
    script: () => {
      arrived();
      return { ...reply, hold };
    },
    came,
    release,
  };
}

/** Waits for the held request, failing at once (with its output) if the CLI ends first. */
async function reachesModel(came: Promise<void>, done: Promise<{ code: number | null; stderr: string }>) {
  await Promise.race([
    came,
    done.then((r) => {
      throw new Error(`azlon ended (${r.code}) before it asked the model: ${r.stderr}`);
    }),
  ]);
}

/** A run killed with kill -9 while it waited for its first reply: resumable, and unlocked by nobody. */
async function killedRun(cwd: string, out: string): Promise<string> {
  const held = heldReply(GREET);
  server.enqueue(held.script);
  const run = spawnCli(runArgs(server, out), { cwd, env });
  await reachesModel(held.came, run.done);
  run.child.kill("SIGKILL");
  await run.done;
  const dir = onlyRunDir(out);
  expect(readRun(dir).status).toBe("running");
  return dir;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read the API's JSON loosely
async function json(response: Response | Promise<Response>): Promise<any> {
  return (await response).json();
}

async function waitFor(s: Served, id: string, ok: (run: { status: string }) => boolean) {
  for (let i = 0; i < 600; i++) {
    const run = await json(s.api(`/api/runs/${id}`));
    if (ok(run)) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} never got there`);
}

describeDocker("one run, one driver (real processes, real engine, loopback model)", () => {
  it("two `azlon resume` of one run at once: the second exits at once naming the first; one leg, one set of model calls", async () => {
    const cwd = tempDir();
    const dir = await killedRun(cwd, join(cwd, "runs"));
    const held = heldReply(GREET);
    server.enqueue(held.script, pass(["hello"]));
    const first = spawnCli(["resume", dir, "--json"], { cwd, env });
    await reachesModel(held.came, first.done);
    const asked = server.chatRequests.length;

    const started = Date.now();
    const second = await runCli(["resume", dir, "--json"], { cwd, env });
    expect(second.code, second.stderr).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(second.stderr).toContain(
      `the run in ${dir} is being driven by azlon resume (process ${first.child.pid}, since `,
    );
    expect(second.stderr).toContain(`fix: wait for it to end, or stop it (kill ${first.child.pid})`);
    expect(server.chatRequests).toHaveLength(asked); // the second asked the model nothing

    held.release();
    const result = await first.done;
    expect(result.code, result.stderr).toBe(0);
    images.push(JSON.parse(result.stdout).image);
    // The killed run's leg and the first resume's: none of the second's.
    expect(readRun(dir).legs.map((l) => l.status)).toEqual(["interrupted", "passed"]);
    expect(readJournal(dir).filter((e) => e.type === "run.started")).toHaveLength(2);
    expect(server.chatRequests).toHaveLength(3); // the killed run's, then one generation and one verdict
    expect(readLock(join(dir, "run.lock"))).toBeNull(); // freed at the end
  });

  it("two `azlon resume` started at the same moment: one drives the run, the other exits 2 naming it", async () => {
    const cwd = tempDir();
    const dir = await killedRun(cwd, join(cwd, "runs"));
    const held = heldReply(GREET);
    server.enqueue(held.script, pass(["hello"]));
    const both = [0, 1].map(() => spawnCli(["resume", dir, "--json"], { cwd, env }));
    // The one that loses the race ends first; the winner waits for its held reply.
    const loser = await Promise.race(both.map((r, i) => r.done.then((result) => ({ result, i }))));
    const winner = both[1 - loser.i];
    expect(loser.result.code, loser.result.stderr).toBe(2);
    expect(loser.result.stderr).toContain(
      `is being driven by azlon resume (process ${winner?.child.pid}, since `,
    );
    await held.came;
    held.release();
    const result = await winner?.done;
    expect(result?.code, result?.stderr).toBe(0);
    images.push(JSON.parse(result?.stdout ?? "{}").image);
    expect(readRun(dir).legs.map((l) => l.status)).toEqual(["interrupted", "passed"]);
    expect(server.chatRequests).toHaveLength(3); // the killed run's, then the winner's two
  });

  it("kill -9 of the resume driving a run: the next `azlon resume` takes the run at once", async () => {
    const cwd = tempDir();
    const dir = await killedRun(cwd, join(cwd, "runs"));
    const held = heldReply(GREET);
    server.enqueue(held.script);
    const killed = spawnCli(["resume", dir, "--json"], { cwd, env });
    await reachesModel(held.came, killed.done);
    killed.child.kill("SIGKILL");
    await killed.done;
    expect(readLock(join(dir, "run.lock"))?.pid).toBe(killed.child.pid); // left behind

    const next = heldReply(GREET);
    server.enqueue(next.script, pass(["hello"]));
    const started = Date.now();
    const resumed = spawnCli(["resume", dir, "--json"], { cwd, env });
    await reachesModel(next.came, resumed.done);
    expect(Date.now() - started).toBeLessThan(10_000); // no waiting for the lock to go stale
    next.release();
    const result = await resumed.done;
    expect(result.code, result.stderr).toBe(0);
    images.push(JSON.parse(result.stdout).image);
    expect(readRun(dir).legs.map((l) => l.status)).toEqual(["interrupted", "interrupted", "passed"]);
  });

  it("two `azlon serve` on one --out: the second refuses at once, naming the first; after kill -9 of the first a new one starts", async () => {
    const out = join(tempDir(), "runs");
    const first = await serve(out);
    const started = Date.now();
    const spawned = spawnCli(["serve", "--port", "0", "--out", out], {
      cwd: join(out, ".."),
      env: serveEnv(),
    });
    // A second server that starts would serve on: stopped, so the test fails instead of hanging.
    const timer = setTimeout(() => spawned.child.kill("SIGKILL"), 15_000);
    const second = await spawned.done;
    clearTimeout(timer);
    expect(second.code, second.stderr).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(second.stderr).toContain(
      `another azlon serve drives the runs in ${out}: azlon serve (process ${first.child.pid}, since `,
    );
    expect(second.stdout).not.toContain("listening");
    first.child.kill("SIGKILL");
    await first.done;
    const third = await serve(out); // the lock left by kill -9 is taken at once
    expect((await third.api("/healthz")).status).toBe(200);
  });

  it("serve's resume route answers 409 naming the process that drives the run (an `azlon resume`)", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const dir = await killedRun(cwd, out);
    const id = readRun(dir).runId;
    const held = heldReply(GREET);
    server.enqueue(held.script, pass(["hello"]));
    const resume = spawnCli(["resume", dir, "--json"], { cwd, env });
    await reachesModel(held.came, resume.done);

    const s = await serve(out);
    const refused = await s.api(`/api/runs/${id}/resume`, { method: "POST", json: {} });
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.message).toContain(
      `is being driven by azlon resume (process ${resume.child.pid}, since `,
    );
    expect((await json(s.api(`/api/runs/${id}`))).status).toBe("running");
    held.release();
    const result = await resume.done;
    expect(result.code, result.stderr).toBe(0);
    images.push(JSON.parse(result.stdout).image);
    expect(readRun(dir).legs).toHaveLength(2);
  });

  it.runIf(process.platform === "linux")(
    "a server killed while it drove a run, left a zombie (its parent never reaps it): a new server starts and carries the run on",
    async () => {
      const out = join(tempDir(), "runs");
      const held = heldReply(GREET);
      server.enqueue(held.script);
      const args = ["serve", "--port", "0", "--out", out].map((a) => `'${a}'`).join(" ");
      const killed = await underNonReapingParent(
        `'${process.execPath}' '${BIN}' ${args}`,
        baseEnv(serveEnv()),
      );
      let url = "";
      for (let i = 0; i < 300 && !url; i++) {
        url = /listening on (http:\/\/\S+)/.exec(killed.output())?.[1] ?? "";
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(url, killed.output()).not.toBe("");
      const { id } = await json(
        fetch(`${url}/api/runs`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ prompt: "a script that greets", tests: "it prints hello" }),
        }),
      );
      await held.came;
      process.kill(killed.pid, "SIGKILL");
      await waitForState(killed.pid, "Z");
      expect(() => process.kill(killed.pid, 0)).not.toThrow(); // what fooled azlon before

      server.enqueue(GREET, pass(["hello"]));
      const next = await serve(out);
      const passed = await waitFor(next, id, (r) => r.status === "passed");
      images.push(passed.image);
      expect(readRun(join(out, id)).legs.map((l) => l.status)).toEqual(["interrupted", "passed"]);
    },
  );
});

it.runIf(process.platform === "linux")(
  "`azlon runs`: a locked run is going on (at another host too, between rounds); a lock whose holder is a zombie or a reused number is not",
  async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const now = new Date().toISOString();
    const live = liveProcess();
    const gone = await zombie();
    const lock = (pid: number, host: string, start: string | null) =>
      JSON.stringify({ pid, host, start, since: now, by: "azlon resume", token: `t-${pid}-${host}` });
    const fake = (runId: string, status: string, files: Record<string, string> = {}, legs: unknown[] = []) =>
      writeTree(join(out, runId), {
        "run.json": JSON.stringify({
          version: 1,
          runId,
          createdAt: now,
          updatedAt: now,
          status,
          iterations: [],
          costUsd: null,
          legs,
          image: null,
        }),
        ...files,
      });
    const remoteLeg = {
      startedAt: now,
      endedAt: null,
      status: "running",
      pid: deadPid(),
      host: "other-host",
    };
    fake("a-remote-between-rounds", "running", {}, [remoteLeg]);
    fake("b-remote-locked", "running", { "run.lock": lock(deadPid(), "other-host", null) }, [remoteLeg]);
    fake("c-resuming", "failed", { "run.lock": lock(live, hostname(), processStart(live)) });
    fake("d-zombie", "running", { "run.lock": lock(gone, hostname(), processStart(gone)) });
    fake("e-reused", "running", { "run.lock": lock(live, hostname(), `${processStart(live)}0`) });

    const table = await runCli(["runs", "--out", out], { cwd, env: {} });
    expect(table.code, table.stderr).toBe(0);
    const statusOf = (runId: string) =>
      table.stdout
        .split("\n")
        .find((l) => l.startsWith(runId))
        ?.split(/\s+/)[1];
    expect(statusOf("a-remote-between-rounds")).toBe("running");
    expect(statusOf("b-remote-locked")).toBe("running");
    expect(statusOf("c-resuming")).toBe("running");
    expect(statusOf("d-zombie")).toBe("killed");
    expect(statusOf("e-reused")).toBe("killed");
    const listed = JSON.parse((await runCli(["runs", "--out", out, "--json"], { cwd, env: {} })).stdout);
    expect(listed.runs.map((r: { live: boolean }) => r.live)).toEqual([true, true, true, false, false]);
  },
);
