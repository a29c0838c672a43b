import { hostname } from "node:os";
import { currentProcess, type ProcessRef, processAlive } from "../util/liveness.js";

/** The label on everything azlon creates; its value is the run id. */
export const RUN_LABEL = "azlon.run";
/** The azlon process that made a container or image, so a later one can tell if it is gone. */
export const OWNER_PID_LABEL = "azlon.owner.pid";
export const OWNER_HOST_LABEL = "azlon.owner.host";
/** When that process started, so a process that got its number since is not taken for it. */
export const OWNER_START_LABEL = "azlon.owner.start";
/** When a container's owner would have removed it at the latest (ISO time). */
export const DEADLINE_LABEL = "azlon.deadline";

/**
 * How long a container may outlive its run time limit while its owner is well: the kill, the
 * wait for it to stop and for the last output (about 12 s), the removal, and a slow engine.
 */
export const DEADLINE_MARGIN_MS = 30_000;
/** An owner on another host cannot be asked; its clock may be off too, so wait this much more. */
export const OTHER_HOST_GRACE_MS = 10 * 60_000;

export type Owner = ProcessRef;

export function currentOwner(): Owner {
  return currentProcess();
}

/** Whether the process a record names runs here: see util/liveness.ts. */
export type Alive = (pid: number, start?: string | null) => boolean;

export function ownerLabels(owner: Owner): Record<string, string> {
  return {
    [OWNER_PID_LABEL]: String(owner.pid),
    [OWNER_HOST_LABEL]: owner.host,
    ...(owner.start ? { [OWNER_START_LABEL]: owner.start } : {}),
  };
}

export function deadlineLabel(now: number, runTimeoutMs: number): Record<string, string> {
  return { [DEADLINE_LABEL]: new Date(now + runTimeoutMs + DEADLINE_MARGIN_MS).toISOString() };
}

export type Labels = Record<string, string> | undefined | null;

/**
 * "alive" or "gone" for an owner on this host; "unknown" for one on another host (a remote
 * engine shared by several machines) or for something made before owners were recorded.
 */
export function ownerState(
  labels: Labels,
  here: string = hostname(),
  alive: Alive = processAlive,
): "alive" | "gone" | "unknown" {
  const pid = Number(labels?.[OWNER_PID_LABEL]);
  const host = labels?.[OWNER_HOST_LABEL];
  if (!Number.isInteger(pid) || pid <= 0 || !host || host !== here) return "unknown";
  return alive(pid, labels?.[OWNER_START_LABEL] ?? null) ? "alive" : "gone";
}

/** The deadline label as epoch ms, or null when absent or unreadable. */
export function deadlineOf(labels: Labels): number | null {
  const text = labels?.[DEADLINE_LABEL];
  const at = text ? Date.parse(text) : Number.NaN;
  return Number.isFinite(at) ? at : null;
}

/**
 * A container left behind by an azlon that is gone: its deadline has passed (by then a live
 * owner would have removed it itself, so even an owner this host cannot see, in another pid
 * namespace under the same host name, loses nothing) and its owner is not alive here. An
 * owner on another host gets a grace period for clock skew; a container without a deadline
 * (made by azlon 0.1) is left to `azlon clean`.
 */
export function isOrphan(
  labels: Labels,
  now: number,
  here: string = hostname(),
  alive: Alive = processAlive,
): boolean {
  const deadline = deadlineOf(labels);
  if (deadline === null) return false;
  switch (ownerState(labels, here, alive)) {
    case "alive":
      return false;
    case "gone":
      return now > deadline;
    case "unknown":
      return now > deadline + OTHER_HOST_GRACE_MS;
  }
}
