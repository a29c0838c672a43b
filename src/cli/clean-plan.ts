import type { LabelledContainer, LabelledImage } from "../sandbox/orphans.js";
import {
  type Alive,
  deadlineOf,
  isOrphan,
  OTHER_HOST_GRACE_MS,
  OWNER_HOST_LABEL,
  OWNER_PID_LABEL,
  ownerState,
} from "../sandbox/owner.js";
import { formatAge } from "../util/age.js";
import { type RunEntry, runIsLive } from "../workspace/run-list.js";

export interface CleanInput {
  /** The run folders under --out. */
  folders: RunEntry[];
  /** What carries the azlon.run label on the engine: nothing else is ever considered. */
  containers: LabelledContainer[];
  images: LabelledImage[];
  /** "folders": the runs found under --out; "all": every run the engine has things of. */
  scope: "folders" | "all";
  /** Only runs last active longer ago than this. */
  olderThanMs: number | null;
  now: number;
  here: string;
  alive: Alive;
}

export interface RunToClean {
  runId: string;
  entry: RunEntry | null;
  containers: LabelledContainer[];
  images: LabelledImage[];
}

export interface CleanPlan {
  runs: RunToClean[];
  /** Containers of runs outside the scope whose azlon is gone (as every start removes them). */
  orphans: LabelledContainer[];
  /** Runs left alone, and why. */
  kept: Array<{ runId: string; why: string }>;
}

function groupBy<T extends { runId: string }>(items: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(item.runId, [...(map.get(item.runId) ?? []), item]);
  return map;
}

/** Why a container must stay (its run is going on), or null. */
function containerInUse(c: LabelledContainer, entry: RunEntry | null, input: CleanInput): string | null {
  const owner = c.labels[OWNER_PID_LABEL];
  const host = c.labels[OWNER_HOST_LABEL];
  switch (ownerState(c.labels, input.here, input.alive)) {
    case "alive":
      return `in use by process ${owner}`;
    case "gone":
      return null;
    case "unknown": {
      if (host) {
        const deadline = deadlineOf(c.labels);
        if (deadline !== null && input.now > deadline + OTHER_HOST_GRACE_MS) return null;
        return `in use by process ${owner} on ${host}`;
      }
      // Made before owners were labelled: a running one is left unless its run is known to be over.
      const over = entry !== null && !runIsLive(entry, input.here, input.alive);
      return c.state === "running" && !over ? "running, by an azlon that did not label its owner" : null;
    }
  }
}

/**
 * How long a run azlon knows no folder of stays off limits to `clean --all` after it was last
 * active: its images name no process (that broke the build cache on resume), so one building
 * from another folder right now looks like one long finished, and removing its layers would
 * break that build ("unable to find image").
 */
export const UNKNOWN_RUN_GRACE_MS = 3_600_000;

/**
 * What `azlon clean` removes: the containers and images (only those with the azlon.run label)
 * of the runs in scope that are not going on, plus orphaned containers of any run.
 */
export function planClean(input: CleanInput): CleanPlan {
  const folders = new Map(input.folders.map((f) => [f.runId, f]));
  const containers = groupBy(input.containers);
  const images = groupBy(input.images);
  const ids =
    input.scope === "all"
      ? [...new Set([...folders.keys(), ...containers.keys(), ...images.keys()])].sort()
      : [...folders.keys()];
  const plan: CleanPlan = { runs: [], orphans: [], kept: [] };
  const considered = new Set<string>();
  for (const runId of ids) {
    const entry = folders.get(runId) ?? null;
    const own = { containers: containers.get(runId) ?? [], images: images.get(runId) ?? [] };
    const lastActive = entry?.updatedAt
      ? Date.parse(entry.updatedAt)
      : Math.max(0, ...[...own.containers, ...own.images].map((x) => x.createdMs));
    if (input.olderThanMs !== null && input.now - lastActive < input.olderThanMs) continue;
    considered.add(runId);
    if (own.containers.length === 0 && own.images.length === 0) continue;
    const why =
      (entry && runIsLive(entry, input.here, input.alive)
        ? `still running (process ${entry.owner?.pid}${entry.owner?.host === input.here ? "" : ` on ${entry.owner?.host}`})`
        : null) ??
      own.containers.map((c) => containerInUse(c, entry, input)).find((w) => w !== null) ??
      // Images built before images stopped naming their process (it broke the build cache on resume).
      own.images
        .filter((i) => ownerState(i.labels, input.here, input.alive) === "alive")
        .map((i) => `being built by process ${i.labels[OWNER_PID_LABEL]}`)[0] ??
      (entry === null &&
      own.containers.length === 0 &&
      input.olderThanMs === null &&
      input.now - lastActive < UNKNOWN_RUN_GRACE_MS
        ? `no run folder here, and active ${formatAge(input.now - lastActive)} ago: it may be going on from another folder (--older-than 0 removes it too)`
        : null) ??
      null;
    if (why) plan.kept.push({ runId, why });
    else plan.runs.push({ runId, entry, ...own });
  }
  plan.orphans = input.containers.filter(
    (c) => !considered.has(c.runId) && isOrphan(c.labels, input.now, input.here, input.alive),
  );
  return plan;
}
