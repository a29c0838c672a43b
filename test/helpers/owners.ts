import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { expect } from "vitest";
import { docker } from "./docker.js";
import { BUSYBOX } from "./images.js";

/** The labels of the run's containers on the engine (running or not). */
export async function containerLabels(runId: string): Promise<Array<Record<string, string>>> {
  const filters = JSON.stringify({ label: [`azlon.run=${runId}`] });
  const list = await docker.listContainers({ all: true, filters });
  return list.map((c) => c.Labels);
}

/**
 * Waits until the run has a container (with `running`, one that has started: a container is
 * created a moment before it starts), and returns its labels.
 */
export async function waitForContainer(
  runId: string,
  timeoutMs = 10_000,
  { running = false }: { running?: boolean } = {},
): Promise<Record<string, string>> {
  const until = Date.now() + timeoutMs;
  const filters = JSON.stringify({
    label: [`azlon.run=${runId}`],
    ...(running ? { status: ["running"] } : {}),
  });
  for (;;) {
    const [found] = await docker.listContainers({ all: true, filters });
    if (found) return found.Labels;
    if (Date.now() > until)
      throw new Error(`no ${running ? "running " : ""}container of run ${runId} appeared`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Asserts the labels azlon puts on a container: its run, its owner, and when it must be gone. */
export function expectOwnerLabels(
  labels: Record<string, string>,
  expected: { runId: string; pid: number; runTimeoutMs: number; marginMs: number; createdAt: number },
): void {
  expect(labels["azlon.run"]).toBe(expected.runId);
  expect(labels["azlon.owner.pid"]).toBe(String(expected.pid));
  expect(labels["azlon.owner.host"]).toBe(hostname());
  const deadline = Date.parse(labels["azlon.deadline"] ?? "");
  const want = expected.createdAt + expected.runTimeoutMs + expected.marginMs;
  expect(Math.abs(deadline - want), `deadline ${labels["azlon.deadline"]}`).toBeLessThan(15_000);
}

/** The number of a process that has ended. */
export function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ["-e", ""]);
  if (!pid) throw new Error("could not start a process");
  return pid;
}

/** A running container labelled as azlon labels one, as a leaked program would be. */
export async function fakeAzlonContainer(labels: Record<string, string>): Promise<string> {
  const container = await docker.createContainer({
    Image: BUSYBOX,
    Cmd: ["sleep", "300"],
    Labels: labels,
    HostConfig: { NetworkMode: "none" },
  });
  await container.start();
  return container.id;
}

export async function containerExists(id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect();
    return true;
  } catch {
    return false;
  }
}
