import { DOCKERFILE } from "../../workspace/paths.js";
import type { FileEntry, PromptLayout } from "../types.js";

/**
 * How the judge's request lays out the project, round after round, so that each request
 * repeats the one before it byte for byte for as long as it can (an endpoint's prefix cache
 * serves that part cheaper and faster).
 *
 * The project is shown as it was in a base round, then, appended round by round, every file
 * written since (whole, as it is now) and every path deleted. Nothing shown is moved or
 * rewritten, so only the new round's files and the round's own text are new bytes. A file
 * written again is shown again; its earlier copies no longer hold, and the prompt says so.
 * (The one exception: a last round that only wrote files, all written again since, is dropped.)
 * Those stale copies cost tokens (cached ones), so once they pass a quarter of the project,
 * or the whole would not fit the prompt, the layout starts afresh: one request that shares
 * less, as every request did when each file was shown once.
 */

/** The most of the project's files one prompt carries; the rest are named, not shown. */
export const MAX_PROMPT_FILE_BYTES = 256 * 1024;

/** Copies that no longer hold may take up this share of the project's bytes. */
export const STALE_SHARE = 0.25;

export interface ProjectNow {
  dockerfile: string;
  files: readonly FileEntry[];
  iteration: number;
  /** The round each path was last written in (the Dockerfile as "Dockerfile"). */
  changedIn?: Record<string, number>;
}

/** The Dockerfile (as a file named Dockerfile, when there is one) and the files. */
export function projectEntries(project: Pick<ProjectNow, "dockerfile" | "files">): FileEntry[] {
  return [
    ...(project.dockerfile.trim() === "" ? [] : [{ path: DOCKERFILE, content: project.dockerfile }]),
    ...project.files,
  ];
}

/** What a file takes in the prompt: its content, its path and the tags around it. */
function shownSize(f: FileEntry): number {
  return Buffer.byteLength(f.content) + Buffer.byteLength(f.path) + FILE_TAG_BYTES;
}

/** `<file path="">`, a newline after it and before `</file>`, and the newline between files. */
const FILE_TAG_BYTES = 24;

function bytesOf(files: readonly FileEntry[]): number {
  return files.reduce((n, f) => n + shownSize(f), 0);
}

function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The project shown once, in an order that holds from round to round: oldest change first
 * (the Dockerfile first of its round), then largest first, then by path. The files the last
 * answer wrote come last.
 */
export function freshLayout(project: ProjectNow): PromptLayout {
  const changedIn = project.changedIn ?? {};
  const round = (path: string) => changedIn[path] ?? 0;
  const base = projectEntries(project).sort(
    (a, b) =>
      round(a.path) - round(b.path) ||
      (a.path === DOCKERFILE ? -1 : 0) - (b.path === DOCKERFILE ? -1 : 0) ||
      Buffer.byteLength(b.content) - Buffer.byteLength(a.content) ||
      byPath(a.path, b.path),
  );
  return { baseRound: project.iteration, base, later: [] };
}

function lastRound(layout: PromptLayout): number {
  return layout.later.at(-1)?.round ?? layout.baseRound;
}

/** What the layout shows as the project now: each path's last copy, less what was deleted. */
function shownProject(layout: PromptLayout): Map<string, string> {
  const view = new Map(layout.base.map((f) => [f.path, f.content]));
  for (const r of layout.later) {
    for (const f of r.written) view.set(f.path, f.content);
    for (const path of r.deleted) view.delete(path);
  }
  return view;
}

/** Every byte of the files the layout shows, stale copies included. */
export function shownBytes(layout: PromptLayout): number {
  return bytesOf(layout.base) + layout.later.reduce((n, r) => n + bytesOf(r.written), 0);
}

/**
 * The layout for this round's request: the previous one with what changed since appended, or
 * a fresh one when there is no previous one (the first request, or the first after a resume),
 * when this round is not after it, or when stale copies grew too many or the whole too large.
 */
export function nextLayout(
  previous: PromptLayout | undefined,
  project: ProjectNow,
  budget = MAX_PROMPT_FILE_BYTES,
): PromptLayout {
  const current = projectEntries(project);
  const bytes = bytesOf(current);
  // A Dockerfile where the base had none starts afresh, so the project never opens by saying
  // there is no Dockerfile when there is one.
  const dockerfileAdded =
    previous !== undefined &&
    !previous.base.some((f) => f.path === DOCKERFILE) &&
    current.some((f) => f.path === DOCKERFILE);
  if (!previous || project.iteration <= lastRound(previous) || bytes > budget || dockerfileAdded) {
    return freshLayout(project);
  }
  const now = new Map(current.map((f) => [f.path, f.content]));
  // A last round that only wrote files, every one written again (or deleted) since, goes: its
  // copies no longer hold, and the new round's copies would cut the cached prefix about where
  // it begins. So a file fixed round after round, alone, is shown twice at most, not once a
  // round. A round that deleted something stays, so each deletion is told in its own round.
  let kept = previous;
  for (let last = kept.later.at(-1); last; last = kept.later.at(-1)) {
    // (A round is here only when it wrote or deleted something.)
    const superseded = last.deleted.length === 0 && last.written.every((f) => now.get(f.path) !== f.content);
    if (!superseded) break;
    kept = { ...kept, later: kept.later.slice(0, -1) };
  }
  const view = shownProject(kept);
  const written = current
    .filter((f) => view.get(f.path) !== f.content)
    .sort((a, b) => byPath(a.path, b.path));
  const deleted = [...view.keys()].filter((path) => !now.has(path)).sort(byPath);
  const layout: PromptLayout =
    written.length || deleted.length
      ? { ...kept, later: [...kept.later, { round: project.iteration, written, deleted }] }
      : kept;
  const shown = shownBytes(layout);
  if (shown - bytes > STALE_SHARE * bytes || shown > budget) return freshLayout(project);
  return layout;
}
