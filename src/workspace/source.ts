import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { SourceOptions } from "../core/state.js";
import type { Delivery, FileEntry, ProjectSource, ProjectView, SourceRecord } from "../core/types.js";
import { DOCKERFILE } from "./paths.js";
import { applyToFolder, branchMadeBy, branchProblem, makeBranch } from "./source-deliver.js";
import { listSource } from "./source-list.js";
import { contextFiles, formatMap } from "./source-map.js";
import { PATCH_FILE, plainEntry, preserveBlobs, takeSnapshot, writePatch } from "./source-snapshot.js";
import { SourceStore, walkFiles } from "./source-store.js";

/*
 * The user's project (--from) as a run sees it: snapshot, map, patch, branch and apply. The
 * parts live beside this file (source-*.ts); git is driven through git.ts only.
 */

export {
  applyToFolder,
  branchProblem,
  listSource,
  makeBranch,
  PATCH_FILE,
  preserveBlobs,
  takeSnapshot,
  writePatch,
};

/** The first line of the prompt, as a commit's subject. */
function subjectOf(prompt: string): string {
  const line = prompt.trim().split("\n")[0]?.trim() ?? "";
  return line.length > 72 ? `${line.slice(0, 71)}…` : line || "azlon's change";
}

/** The user's project behind a run (--from): what the loop asks of it, over the run folder. */
export class UserProject implements ProjectSource {
  constructor(
    private readonly options: SourceOptions,
    private readonly runDir: string,
    private readonly workspaceDir: string,
    private readonly outDir: string | null,
  ) {}

  snapshot(signal: AbortSignal): Promise<SourceRecord> {
    return takeSnapshot(this.options, this.runDir, this.workspaceDir, this.outDir, signal);
  }

  async view(record: SourceRecord, task: { prompt: string; tests: string }): Promise<ProjectView> {
    const files = await walkFiles(this.workspaceDir);
    const words = `${task.prompt}\n${task.tests}`;
    const dockerfile = files.find((f) => f.path === DOCKERFILE && f.kind !== "link");
    // Links are never followed: not even to weigh what they point at. The choice is made again
    // each time (the workspace has not changed before the first answer applies), but the files
    // shown are the ones first chosen.
    const plain = files.filter((f) => f.kind !== "link");
    const picked = await contextFiles(this.workspaceDir, plain, words, undefined, new Set([DOCKERFILE]));
    const context = record.context.length ? record.context : picked.shown;
    const named = picked.named.filter((p) => !context.includes(p));
    const shown: FileEntry[] = [];
    for (const path of context) {
      const file = await plainEntry(this.workspaceDir, path);
      if (file?.kind === "link" || !file) continue;
      shown.push({ path, content: await readFile(join(this.workspaceDir, path), "utf8") });
    }
    return {
      map: formatMap(files, words),
      files: shown,
      named,
      dockerfile:
        record.ownDockerfile && dockerfile
          ? await readFile(join(this.workspaceDir, DOCKERFILE), "utf8")
          : null,
      dockerfilePath: this.options.dockerfile,
    };
  }

  async map(task: string): Promise<string> {
    return formatMap(await walkFiles(this.workspaceDir), task);
  }

  async deliver(
    record: SourceRecord,
    run: { runId: string; prompt: string; passed: boolean },
  ): Promise<Delivery> {
    const { path, changes } = await writePatch(record, this.options, this.runDir, this.workspaceDir);
    const delivery: Delivery = {
      patch: path,
      files: changes.map((c) => c.path),
      branch: null,
      commit: null,
      applied: null,
      note: null,
    };
    if (!run.passed) return delivery;
    const store = new SourceStore(this.runDir, record.objectFormat);
    const notes: string[] = [];
    const name = this.options.branch;
    const made = name !== null && record.kind === "git" ? branchMadeBy(record.top, name, run.runId) : null;
    if (name !== null && made) Object.assign(delivery, { branch: name, commit: made });
    else if (name !== null) {
      const problem =
        record.kind === "git" ? branchProblem(record.top, name) : "the project is not a git repository";
      if (problem) notes.push(`no branch was made: ${problem}`);
      else {
        delivery.commit = await makeBranch({
          record,
          store,
          runDir: this.runDir,
          name,
          snapshot: await store.snapshotEntries(),
          changes,
          message: `${subjectOf(run.prompt)}\n\nMade by azlon, run ${run.runId}.\n`,
          wipMessage:
            `WIP: the uncommitted work azlon started from\n\nThe working tree as it was when azlon run ${run.runId} ` +
            "took its snapshot: tracked files with their uncommitted changes, and the untracked files .gitignore allows.\n",
        });
        delivery.branch = name;
      }
    }
    if (this.options.apply) {
      const applied = await applyToFolder(this.options.dir, store, changes);
      delivery.applied = applied.applied;
      if (!applied.applied) {
        notes.push(
          `nothing was applied: ${applied.changedSince.slice(0, 5).join(", ")}${applied.changedSince.length > 5 ? ` and ${applied.changedSince.length - 5} more` : ""} changed in ${this.options.dir} since the snapshot; the patch is ${path}`,
        );
      }
    }
    delivery.note = notes.length ? notes.join("; ") : null;
    return delivery;
  }
}
