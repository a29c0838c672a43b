import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { DEADLINE_MARGIN_MS } from "../../src/sandbox/owner.js";
import { BIN, baseEnv, runCli, spawnCli } from "../helpers/cli.js";
import { describeDocker, docker, leftovers } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { generation, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import {
  containerExists,
  deadPid,
  expectOwnerLabels,
  fakeAzlonContainer,
  waitForContainer,
} from "../helpers/owners.js";
import { onlyRunDir, readRun } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-hangup-1234567890";
const { server, images } = loopbackModel();
const LONG_PROGRAM = `FROM ${BUSYBOX}\nENTRYPOINT ["sh", "-c", "echo started; sleep 60; echo done"]\n`;

const args = (out: string, extra: string[] = []) =>
  runArgs(server, out, extra, { prompt: "wait, then greet", tests: "prints done" });

describeDocker("hang-ups, closed output and orphaned containers (real engine, loopback model)", () => {
  it("closing the terminal (SIGHUP) mid-run exits 129, removes the labelled container, marks the run interrupted", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    server.enqueue(generation(LONG_PROGRAM, {}));
    type Watch = { runId: string; pid: number; at: number; labels: Promise<Record<string, string>> };
    let watch: Watch | null = null;
    const { done } = spawnCli(args(out, ["--run-timeout", "120"]), {
      cwd,
      env: { OPENAI_API_KEY: KEY },
      onStderr: (text, child) => {
        const runId = /azlon run (\S+)/.exec(text)?.[1];
        if (watch || !runId || !text.includes("running the program")) return;
        watch = { runId, pid: child.pid ?? 0, at: Date.now(), labels: waitForContainer(runId) };
        images.push(`azlon/${runId}`);
        watch.labels.then(
          () => setTimeout(() => child.kill("SIGHUP"), 300),
          () => child.kill("SIGKILL"),
        );
      },
    });
    const result = await done;
    const w = watch as Watch | null;
    if (!w) throw new Error(`the program never ran: ${result.stderr}`);
    // The live container carried its run, its owner (this CLI) and a deadline.
    expectOwnerLabels(await w.labels, {
      runId: w.runId,
      pid: w.pid,
      runTimeoutMs: 120_000,
      marginMs: DEADLINE_MARGIN_MS,
      createdAt: w.at,
    });
    expect(result.code, result.stderr).toBe(129);
    expect(result.stderr).toContain("SIGHUP");
    expect(JSON.parse(result.stdout)).toMatchObject({ status: "interrupted" });
    const state = readRun(onlyRunDir(out));
    expect(state.status).toBe("interrupted");
    expect((await leftovers(state.runId)).containers).toBe(0);
  });

  it("closing the output (`azlon run ... 2>&1 | sed`) stops the run like a hang-up: exit 141, nothing left running", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const codeFile = join(cwd, "code");
    server.enqueue(generation(LONG_PROGRAM, {}));
    // Like `| head -2`, sed stops reading at a known line: the build. azlon's next line fails.
    const pipeline = `{ "$0" "$@" 2>&1; echo $? > "${codeFile}"; } | sed '/building the image/q'`;
    const child = spawn("sh", ["-c", pipeline, process.execPath, BIN, ...args(out)], {
      cwd,
      env: baseEnv({ OPENAI_API_KEY: KEY }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let seen = "";
    child.stdout.on("data", (d: Buffer) => {
      seen += d.toString();
    });
    await new Promise((resolve) => child.on("close", resolve));
    expect(seen).toContain("building the image");
    expect(readFileSync(codeFile, "utf8").trim()).toBe("141");
    const state = readRun(onlyRunDir(out));
    images.push(`azlon/${state.runId}`);
    expect(state.status).toBe("interrupted");
    expect((await leftovers(state.runId)).containers).toBe(0);
    expect(server.chatRequests).toHaveLength(1); // stopped before any judging
  });

  it("a run's start removes containers a dead azlon left once their deadline passed, and no others", async () => {
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    const owner = (pid: number, deadline: number) => ({
      "azlon.owner.pid": String(pid),
      "azlon.owner.host": hostname(),
      "azlon.deadline": new Date(deadline).toISOString(),
    });
    const dead = deadPid();
    const orphan = await fakeAzlonContainer({
      "azlon.run": `orphan-${tag}`,
      ...owner(dead, Date.now() - 1000),
    });
    const liveOwner = await fakeAzlonContainer({
      "azlon.run": `live-${tag}`,
      ...owner(process.pid, Date.now() - 1000),
    });
    const notYet = await fakeAzlonContainer({
      "azlon.run": `not-yet-${tag}`,
      ...owner(dead, Date.now() + 600_000),
    });
    const unlabelledOwner = await fakeAzlonContainer({ "azlon.run": `old-${tag}` });
    try {
      const cwd = tempDir();
      server.enqueue(generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "hi"]\n`, {}), pass(["hi"]));
      const result = await runCli(args(join(cwd, "runs")), { cwd, env: { OPENAI_API_KEY: KEY } });
      expect(result.code, result.stderr).toBe(0);
      images.push(JSON.parse(result.stdout).image);
      // Another azlon (a test file running beside this one) may sweep the orphan first.
      expect(result.stderr).not.toContain("could not remove");
      expect(await containerExists(orphan)).toBe(false);
      expect(await containerExists(liveOwner)).toBe(true);
      expect(await containerExists(notYet)).toBe(true);
      expect(await containerExists(unlabelledOwner)).toBe(true);
    } finally {
      for (const id of [orphan, liveOwner, notYet, unlabelledOwner]) {
        await docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => {});
      }
    }
  });
});
