import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { afterAll, expect, it } from "vitest";
import { OTHER_HOST_GRACE_MS, ownerLabels, RUN_LABEL } from "../../src/sandbox/owner.js";
import { describeDocker, docker, removeLabelled } from "../helpers/docker.js";
import { BUSYBOX } from "../helpers/images.js";
import { zombie as makeZombie } from "../helpers/zombie.js";

const ROOT = resolve(import.meta.dirname, "../..");
/** This test's own label value: the sweep is narrowed to it, and only its containers are removed after. */
const RUN = `ci-sweep-${process.pid}-${Date.now()}`;
const MINUTE = 60_000;

afterAll(async () => {
  await removeLabelled(RUN);
});

/**
 * The number of a process that is gone. On Linux one above pid_max, which no process can have:
 * the number of a child that has ended could be given to a new process before the sweep looks
 * (the tests around this one start thousands).
 */
function gonePid(): number {
  if (existsSync("/proc/sys/kernel/pid_max")) {
    return Number(readFileSync("/proc/sys/kernel/pid_max", "utf8")) + 1;
  }
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(child.stdout);
}

async function container(owner: { pid: number; host: string } | null, deadline: number | null) {
  const labels: Record<string, string> = { [RUN_LABEL]: RUN };
  if (owner) Object.assign(labels, ownerLabels(owner));
  if (deadline !== null) labels["azlon.deadline"] = new Date(deadline).toISOString();
  const made = await docker.createContainer({ Image: BUSYBOX, Cmd: ["true"], Labels: labels });
  return made.id;
}

describeDocker(".ci/sweep-docker.sh (the CI setup's sweep, real engine)", () => {
  it("removes only containers whose owner is gone and whose deadline has passed, as `azlon run` does", async () => {
    const here = hostname();
    const now = Date.now();
    const live = { pid: process.pid, host: here };
    const gone = { pid: gonePid(), host: here };
    // A zombie is told from a live process by its state in /proc (Linux; elsewhere it counts as alive).
    const zombie = existsSync("/proc/self") ? { pid: await makeZombie(), host: here } : null;
    const elsewhere = { pid: process.pid, host: `elsewhere-${RUN}` };
    const kept = {
      "a live owner, deadline to come": await container(live, now + 10 * MINUTE),
      "a live owner, deadline past (a run outliving its limit a moment)": await container(live, now - MINUTE),
      "a gone owner, deadline to come": await container(gone, now + 10 * MINUTE),
      "another host's owner, deadline past within the grace": await container(elsewhere, now - MINUTE),
      "no deadline (azlon 0.1)": await container(gone, null),
      "no owner, deadline to come": await container(null, now + 10 * MINUTE),
    };
    const removed = {
      "a gone owner, deadline past": await container(gone, now - MINUTE),
      ...(zombie ? { "a zombie owner, deadline past": await container(zombie, now - MINUTE) } : {}),
      "another host's owner, deadline past beyond the grace": await container(
        elsewhere,
        now - OTHER_HOST_GRACE_MS - MINUTE,
      ),
    };

    const sweep = spawnSync("bash", [".ci/sweep-docker.sh", `${RUN_LABEL}=${RUN}`], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(sweep.status, sweep.stderr).toBe(0);

    const filters = JSON.stringify({ label: [`${RUN_LABEL}=${RUN}`] });
    const left = (await docker.listContainers({ all: true, filters })).map((c) => c.Id);
    const name = (id: string) => Object.entries({ ...kept, ...removed }).find(([, v]) => v === id)?.[0] ?? id;
    expect(left.map(name).sort()).toEqual(Object.keys(kept).sort());
    // Each removal is said, with why. An `azlon run` elsewhere on the engine (a test running
    // alongside) may have swept an orphan first: then the script had nothing left to say of it.
    const said = [...sweep.stderr.matchAll(/removing container ([0-9a-f]{12}): its owner/g)].map((m) => m[1]);
    for (const short of said) expect(Object.values(removed).map((id) => id.slice(0, 12))).toContain(short);
  });
});
