import { existsSync, lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { DEFAULT_BASE_URL } from "../config/defaults.js";
import type { Config } from "../config/schema.js";
import type { RunState } from "../core/state.js";
import { checksOf, iterationsRun, verdictOf } from "../core/state.js";
import { CHECKS_FILE, VERDICT_FILE } from "../core/steps/records.js";
import type { Result } from "../engine/result.js";
import { type PatchView, readTail } from "../report/read.js";
import type { Redactor } from "../util/secrets.js";
import { CHANGES_FILE } from "../workspace/changes.js";
import { ITERATIONS_DIR, type RunFolder } from "../workspace/run-folder.js";

export type ServedStatus = RunState["status"] | "queued";

/** A run as the list shows it. */
export interface RunSummary {
  id: string;
  status: ServedStatus;
  stopReason: RunState["stopReason"];
  reason: string | null;
  iterations: number;
  maxIterations: number;
  phase: string | null;
  createdAt: string;
  updatedAt: string;
  prompt: string;
  image: string | null;
  costUsd: number | null;
  usage: RunState["usage"];
}

export function summaryOf(state: RunState, status: ServedStatus, phase: string | null): RunSummary {
  return {
    id: state.runId,
    status,
    stopReason: state.stopReason,
    reason: state.reason,
    iterations: iterationsRun(state),
    maxIterations: state.options.maxIterations,
    phase,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    prompt: state.input.prompt.slice(0, 200),
    image: state.image,
    costUsd: state.costUsd,
    usage: state.usage,
  };
}

export function detailOf(
  state: RunState,
  status: ServedStatus,
  phase: string | null,
  result: Result | null,
  change: PatchView | null = null,
) {
  return {
    ...summaryOf(state, status, phase),
    /** A run from the user's project: changes.patch (bounded), for the page's diff. */
    change,
    prompt: state.input.prompt,
    tests: state.input.tests,
    model: state.options.model,
    checks: checksOf(state.options).commands,
    verdict: verdictOf(state.options),
    progress: state.progress,
    iterationSummaries: state.iterations,
    result,
  };
}

/**
 * What a new run gets when the form leaves a field empty: the server's model and endpoint (its
 * secrets masked; never the key), and its limits. Read-only: nothing here changes them.
 */
export function defaultsOf(config: Config, redactor: Redactor, projectsRoot: string | null = null) {
  return {
    /** Where `from` may name a project (serve --projects-root), or null: no project runs. */
    projectsRoot,
    model: config.model,
    endpoint: redactor.redactMessage(config.baseUrl ?? DEFAULT_BASE_URL),
    maxIterations: config.maxIterations,
    maxCost: config.maxCost,
    verdict: config.verdict,
  };
}

/** The workspace's files (Dockerfile included), sorted; links and special files left out. */
export function listFiles(workspaceDir: string): Array<{ path: string; bytes: number }> {
  const files: Array<{ path: string; bytes: number }> = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile())
        files.push({ path: relative(workspaceDir, full).split(sep).join("/"), bytes: statSync(full).size });
    }
  };
  if (existsSync(workspaceDir)) walk(workspaceDir);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The real path of a workspace file, or null when `rel` leaves the workspace (.., an absolute
 * path, a symbolic link pointing out) or is not a regular file: the route answers 404 for all.
 */
export function workspaceFile(workspaceDir: string, rel: string): string | null {
  if (rel.includes("\0")) return null;
  try {
    const root = realpathSync(workspaceDir);
    const target = realpathSync(resolve(root, rel));
    if (!target.startsWith(root + sep)) return null;
    return lstatSync(target).isFile() ? target : null;
  } catch {
    return null;
  }
}

/** The end of a log as text (cut at a line start, as the report shows it); "" when there is none. */
function tailOf(path: string): string {
  return readTail(path)?.text ?? "";
}

/** One round of a run: what changed, the logs' ends, the checks and the verdict. */
export function iterationOf(folder: RunFolder, state: RunState, n: number) {
  const summary = state.iterations.find((i) => i.iteration === n);
  const dir = join(folder.dir, ITERATIONS_DIR, String(n).padStart(2, "0"));
  if (!summary && !existsSync(dir)) return null;
  const json = <T>(name: string): T | null => {
    try {
      return folder.readIterationJson<T>(n, name);
    } catch {
      return null;
    }
  };
  return {
    iteration: n,
    summary: summary ?? { iteration: n },
    buildLogTail: tailOf(join(dir, "build.log")),
    outputTail: tailOf(join(dir, "output.log")),
    checks: json(CHECKS_FILE),
    verdict: json(VERDICT_FILE),
    changes: json(CHANGES_FILE) ?? [],
  };
}
