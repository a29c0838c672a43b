import { hostname } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runCli, spawnCli } from "../helpers/cli.js";
import { describeDocker, docker, leftovers, removeLabelled } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { generation, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { containerExists, deadPid, fakeAzlonContainer, waitForContainer } from "../helpers/owners.js";
import { readRun } from "../helpers/run-folder.js";
import { tempDir, writeTree } from "../helpers/tmp.js";

const KEY = "sk-test-clean-1234567890";
const { server, images } = loopbackModel();
const env = { OPENAI_API_KEY: KEY };

/** A run that passes at once, in `out`; returns its run id. */
async function passingRun(cwd: string, out: string): Promise<string> {
  server.enqueue(generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "hi"]\n`, {}), pass(["hi"]));
  const result = await runCli(runArgs(server, out), { cwd, env });
  expect(result.code, result.stderr).toBe(0);
  const json = JSON.parse(result.stdout);
  images.push(json.image);
  return readRun(json.runDir).runId;
}

/** A run folder written by hand, as azlon writes run.json. */
function fakeRun(out: string, runId: string, fields: Record<string, unknown>): void {
  const now = new Date().toISOString();
  writeTree(join(out, runId), {
    "run.json": JSON.stringify({
      version: 1,
      runId,
      createdAt: now,
      updatedAt: now,
      status: "failed",
      iterations: [],
      costUsd: null,
      legs: [],
      image: null,
      ...fields,
    }),
  });
}

async function imageExists(name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch {
    return false;
  }
}

describeDocker("azlon runs and azlon clean (real engine, loopback model)", () => {
  it("`azlon runs` lists the run folders: status, stop reason, iterations, cost, image, age; a killed run shows as such", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const passed = await passingRun(cwd, out);
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString();
    fakeRun(out, "20261120-000000-killed-0001", {
      status: "running",
      legs: [{ startedAt: twoDaysAgo, endedAt: null, status: "running", pid: deadPid(), host: hostname() }],
      iterations: [{ iteration: 1, build: { ok: true, timedOut: false, durationMs: 5 } }],
      costUsd: 0.0123,
      updatedAt: twoDaysAgo,
    });
    writeTree(out, { "not-a-run/readme.txt": "x", "broken/run.json": "{" });

    const table = await runCli(["runs", "--out", out], { cwd, env: {} });
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toMatch(/^RUN\s+STATUS\s+STOP REASON\s+ITER\s+COST\s+IMAGE\s+UPDATED$/);
    expect(lines.find((l) => l.startsWith(passed))).toMatch(
      new RegExp(`passed\\s+passed\\s+1\\s+unknown\\s+azlon/${passed} \\(\\d.*\\)\\s+\\d+ s ago$`),
    );
    expect(lines.find((l) => l.startsWith("20261120-000000-killed-0001"))).toMatch(
      /killed\s+-\s+1\s+\$0\.0123\s+-\s+2 d ago$/,
    );
    expect(lines.find((l) => l.startsWith("broken"))).toMatch(/unreadable/);
    expect(table.stdout).not.toContain("not-a-run");
    expect(table.stdout).toContain("`azlon clean` removes them");

    const json = await runCli(["runs", "--out", out, "--json"], { cwd, env: {} });
    const runs = JSON.parse(json.stdout).runs;
    expect(runs.map((r: { runId: string }) => r.runId)).toEqual([
      "20261120-000000-killed-0001",
      passed,
      "broken",
    ]);
    expect(runs[0]).toMatchObject({ status: "running", live: false, costUsd: 0.0123 });
    expect(runs[1]).toMatchObject({
      status: "passed",
      stopReason: "passed",
      iterations: 1,
      image: `azlon/${passed}`,
      imagePresent: true,
    });
    expect(runs[1].imageBytes).toBeGreaterThan(0);
  });

  it("`azlon clean` lists, and with --yes removes, the runs' images and containers: never unlabelled ones, never a live run's", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    const unlabelled = `azlon/unlabelled-${tag}`;
    const live = `live-${tag}`;
    const elsewhere = `elsewhere-${tag}`;
    let killedId = "";
    try {
      const passed = await passingRun(cwd, out);

      // A run killed with kill -9 while its program ran: its container is left running.
      server.enqueue(generation(`FROM ${BUSYBOX}\nENTRYPOINT ["sh", "-c", "sleep 60"]\n`, {}));
      const killed = spawnCli(runArgs(server, out), {
        cwd,
        env,
        onStderr: (text, child) => {
          const runId = /azlon run (\S+)/.exec(text)?.[1];
          if (killedId || !runId || !text.includes("running the program")) return;
          killedId = runId;
          images.push(`azlon/${runId}`);
          waitForContainer(runId, 10_000, { running: true }).finally(() => child.kill("SIGKILL"));
        },
      });
      expect((await killed.done).signal).toBe("SIGKILL");
      expect((await leftovers(killedId)).containers).toBe(1);

      // A run whose image name was taken by an image azlon did not make (no label).
      fakeRun(out, `unlabelled-${tag}`, { image: unlabelled });
      await docker.getImage(BUSYBOX).tag({ repo: unlabelled, tag: "latest" });
      // A run going on now (this process owns it), with its container.
      fakeRun(out, live, {
        status: "running",
        legs: [{ startedAt: "", endedAt: null, status: "running", pid: process.pid, host: hostname() }],
      });
      const owner = { "azlon.owner.pid": String(process.pid), "azlon.owner.host": hostname() };
      const liveContainer = await fakeAzlonContainer({ "azlon.run": live, ...owner });
      // A run of another folder, whose owner is gone but whose deadline has not passed.
      const elsewhereContainer = await fakeAzlonContainer({
        "azlon.run": elsewhere,
        "azlon.owner.pid": String(deadPid()),
        "azlon.owner.host": hostname(),
        "azlon.deadline": new Date(Date.now() + 600_000).toISOString(),
      });
      const dry = await runCli(["clean", "--out", out], { cwd, env: {} });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain("would remove:");
      expect(dry.stdout).toContain(`run ${passed} (passed`);
      expect(dry.stdout).toContain(`image      azlon/${passed}:latest`);
      expect(dry.stdout).toContain(`run ${killedId} (killed`);
      expect(dry.stdout).toMatch(/container {2}[0-9a-f]{12} {2}running/);
      expect(dry.stdout).toContain(`run ${live}: still running (process ${process.pid})`);
      expect(dry.stdout).not.toContain(elsewhere);
      expect(dry.stdout).not.toContain(unlabelled);
      expect(dry.stdout).toContain("dry run: would remove 2 images");
      expect(dry.stdout).toContain("nothing was removed");
      expect(await imageExists(`azlon/${passed}`)).toBe(true);
      expect((await leftovers(killedId)).containers).toBe(1);

      // --all looks at the whole engine: the other folder's run is listed too (dry run only here).
      const all = await runCli(["clean", "--out", out, "--all"], { cwd, env: {} });
      expect(all.stdout).toContain(`run ${elsewhere} (no run folder here)`);

      const wet = await runCli(["clean", "--out", out, "--yes"], { cwd, env: {} });
      expect(wet.code, wet.stderr).toBe(0);
      expect(wet.stdout).toContain("removed 2 images");
      expect(wet.stdout).toContain("and 1 container");
      expect(await leftovers(passed)).toEqual({ containers: 0, images: [] });
      expect(await leftovers(killedId)).toEqual({ containers: 0, images: [] });
      expect(await imageExists(unlabelled)).toBe(true);
      expect(await imageExists(BUSYBOX)).toBe(true);
      expect(await containerExists(liveContainer)).toBe(true);
      expect(await containerExists(elsewhereContainer)).toBe(true);
      // The run folders stay: they are the record, and the image can be built again from them.
      const after = await runCli(["runs", "--out", out], { cwd, env: {} });
      expect(after.stdout).toMatch(new RegExp(`azlon/${passed} \\(removed\\)`));
    } finally {
      if (killedId) await removeLabelled(killedId);
      await removeLabelled(live);
      await removeLabelled(elsewhere);
      await docker
        .getImage(unlabelled)
        .remove()
        .catch(() => {});
    }
  });
});
