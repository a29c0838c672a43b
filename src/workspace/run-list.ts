import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { iterationsRun, type RunState } from "../core/state.js";
import type { ProcessRef } from "../util/liveness.js";
import { readLock } from "./lock.js";
import { LOCK_FILE, RUN_FILE, SERVE_FILE } from "./run-folder.js";

/** A run folder as `azlon runs` and `azlon clean` see it. */
export interface RunEntry {
  dir: string;
  runId: string;
  /** run.json's status, or "unreadable" when it cannot be read. */
  status: RunState["status"] | "unreadable";
  /** Why it stopped (run.json's stopReason): null while it runs, or when it cannot be read. */
  stopReason: RunState["stopReason"];
  iterations: number;
  costUsd: number | null;
  image: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  /**
   * The process that drives or drove the run, to tell a live run from a killed one: the
   * lock's holder (alive or not), else the last leg's process (an azlon from before the lock).
   */
  owner: ProcessRef | null;
  /** Whether `owner` comes from the run folder's lock, which only a driving process holds. */
  locked: boolean;
  /** Waiting in the queue of an `azlon serve` (its serve.json says so). */
  queued: boolean;
}

/** The run folders (those holding run.json) right under `outDir`, by run id; none if it is missing. */
export function listRunFolders(outDir: string): RunEntry[] {
  if (!existsSync(outDir)) return [];
  const entries: RunEntry[] = [];
  for (const name of readdirSync(outDir).sort()) {
    const dir = join(outDir, name);
    if (!existsSync(join(dir, RUN_FILE))) continue;
    entries.push(readRunEntry(dir, name));
  }
  return entries;
}

/** One run folder as `azlon runs` sees it. */
export function readRunEntry(dir: string, name: string): RunEntry {
  const holder = readLock(join(dir, LOCK_FILE));
  const driver = holder
    ? { owner: { pid: holder.pid, host: holder.host, start: holder.start }, locked: true }
    : null;
  let state: Partial<RunState>;
  try {
    state = JSON.parse(readFileSync(join(dir, RUN_FILE), "utf8"));
  } catch {
    state = {};
  }
  if (!state || typeof state !== "object" || typeof state.status !== "string") {
    return {
      dir,
      runId: name,
      status: "unreadable",
      stopReason: null,
      iterations: 0,
      costUsd: null,
      image: null,
      createdAt: null,
      updatedAt: null,
      owner: driver?.owner ?? null,
      locked: !!driver,
      queued: false,
    };
  }
  const leg = Array.isArray(state.legs) ? state.legs.at(-1) : undefined;
  return {
    dir,
    runId: typeof state.runId === "string" ? state.runId : name,
    status: state.status,
    stopReason: typeof state.stopReason === "string" ? state.stopReason : null,
    iterations: Array.isArray(state.iterations) ? iterationsRun(state as RunState) : 0,
    costUsd: typeof state.costUsd === "number" ? state.costUsd : null,
    image: typeof state.image === "string" ? state.image : null,
    createdAt: state.createdAt ?? null,
    updatedAt: state.updatedAt ?? null,
    owner:
      driver?.owner ?? (leg?.pid && leg.host ? { pid: leg.pid, host: leg.host, start: leg.start } : null),
    locked: !!driver,
    queued: queuedByServe(dir),
  };
}

/** Whether an `azlon serve` holds the run in its queue (serve.json: {"queued": true}). */
function queuedByServe(dir: string): boolean {
  try {
    return JSON.parse(readFileSync(join(dir, SERVE_FILE), "utf8"))?.queued === true;
  } catch {
    return false;
  }
}

/**
 * Whether the run is going on now: its lock is held by a live process (whatever run.json says:
 * a resume that has just begun), or, with no lock (an azlon from before it), run.json says
 * running and its process is alive here. A run going on at another host cannot be checked and
 * counts as live.
 */
export function runIsLive(
  entry: Pick<RunEntry, "status" | "owner" | "locked">,
  here: string,
  alive: (pid: number, start?: string | null) => boolean,
): boolean {
  if (!entry.owner || (!entry.locked && entry.status !== "running")) return false;
  return entry.owner.host !== here || alive(entry.owner.pid, entry.owner.start ?? null);
}

/**
 * The status to show: "running" for a run going on, "queued" for a run waiting in a server's
 * queue, "killed" for a run that says running but whose process is gone.
 */
export function shownStatus(entry: Pick<RunEntry, "status"> & { queued?: boolean }, live: boolean): string {
  if (live) return "running";
  if (entry.status === "running") return entry.queued ? "queued" : "killed";
  return entry.status;
}
