import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../core/errors.js";
import type { SourceOptions } from "../core/state.js";
import type { Delivery, FileEntry, ProjectSource, ProjectView, SourceRecord } from "../core/types.js";
import { DOCKERFILE } from "./paths.js";
import { applyToFolder, branchMadeBy, branchProblem, makeBranch, type PathChange } from "./source-deliver.js";
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

  /** The branch made (or found made by this run, resumed after making it), or why none could be. */
  private async branch(
    record: SourceRecord,
    store: SourceStore,
    name: string,
    changes: PathChange[],
    run: { runId: string; prompt: string },
  ): Promise<{ made: { branch: string; commit: string } | null; refused: string | null }> {
    if (record.kind !== "git") return { made: null, refused: "the project is not a git repository" };
    const found = branchMadeBy(record.top, name, run.runId);
    if (found) return { made: { branch: name, commit: found }, refused: null };
    const refused = branchProblem(record.top, name);
    if (refused) return { made: null, refused };
    const commit = await makeBranch({
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
    return { made: { branch: name, commit }, refused: null };
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
    // The run has passed and its patch is written: a branch or an apply that cannot be made
    // (the folder gone, a disk full) is told, and the pass stands.
    const attempt = async (what: string, act: () => Promise<void>) => {
      try {
        await act();
      } catch (error) {
        notes.push(`${what}: ${errorMessage(error)}; the patch is ${path}`);
      }
    };
    const name = this.options.branch;
    if (name !== null) {
      await attempt("no branch was made", async () => {
        const { made, refused } = await this.branch(record, store, name, changes, run);
        if (made) Object.assign(delivery, made);
        if (refused) notes.push(`no branch was made: ${refused}`);
      });
    }
    if (this.options.apply) {
      await attempt("nothing was applied", async () => {
        const applied = await applyToFolder(this.options.dir, store, changes);
        delivery.applied = applied.applied;
        if (!applied.applied) {
          const more = applied.changedSince.length > 5 ? ` and ${applied.changedSince.length - 5} more` : "";
          notes.push(
            `nothing was applied: ${applied.changedSince.slice(0, 5).join(", ")}${more} changed in ${this.options.dir} since the snapshot; the patch is ${path}`,
          );
        }
      });
    }
    delivery.note = notes.length ? notes.join("; ") : null;
    return delivery;
  }
}
