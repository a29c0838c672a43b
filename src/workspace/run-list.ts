import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { iterationsRun, type RunState } from "../core/state.js";
import { RUN_FILE, SERVE_FILE } from "./run-folder.js";

/** A run folder as `azlon runs` and `azlon clean` see it. */
export interface RunEntry {
  dir: string;
  runId: string;
  /** run.json's status, or "unreadable" when it cannot be read. */
  status: RunState["status"] | "unreadable";
  iterations: number;
  costUsd: number | null;
  image: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  /** The process of the last leg, to tell a live run from a killed one. */
  owner: { pid: number; host: string } | null;
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
    entries.push(readEntry(dir, name));
  }
  return entries;
}

function readEntry(dir: string, name: string): RunEntry {
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
      iterations: 0,
      costUsd: null,
      image: null,
      createdAt: null,
      updatedAt: null,
      owner: null,
      queued: false,
    };
  }
  const leg = Array.isArray(state.legs) ? state.legs.at(-1) : undefined;
  return {
    dir,
    runId: typeof state.runId === "string" ? state.runId : name,
    status: state.status,
    iterations: Array.isArray(state.iterations) ? iterationsRun(state as RunState) : 0,
    costUsd: typeof state.costUsd === "number" ? state.costUsd : null,
    image: typeof state.image === "string" ? state.image : null,
    createdAt: state.createdAt ?? null,
    updatedAt: state.updatedAt ?? null,
    owner: leg?.pid && leg.host ? { pid: leg.pid, host: leg.host } : null,
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
 * Whether the run is going on now: run.json says running and its process is alive here. A
 * run going on at another host cannot be checked and counts as live.
 */
export function runIsLive(entry: RunEntry, here: string, alive: (pid: number) => boolean): boolean {
  if (entry.status !== "running" || !entry.owner) return false;
  return entry.owner.host !== here || alive(entry.owner.pid);
}

/**
 * The status to show: "queued" for a run waiting in a server's queue, "killed" for a run that
 * says running but whose process is gone.
 */
export function shownStatus(entry: Pick<RunEntry, "status"> & { queued?: boolean }, live: boolean): string {
  if (entry.status === "running" && !live) return entry.queued ? "queued" : "killed";
  return entry.status;
}
