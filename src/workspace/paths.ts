import { posix } from "node:path";
import type { ApplyReport, Changes, FileEdit, FileEntry, RefusedPath } from "../core/types.js";
import { boundList, cutEcho, ECHO_ITEMS } from "../util/echo.js";

/** Limits on what one model reply may write. */
export interface ReplyLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxPathLength: number;
}

export const DOCKERFILE = "Dockerfile";

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Checks a path the model wrote and returns it in normal form (forward slashes, no "./").
 * Pure: it does not look at the disk (symbolic links are checked when writing).
 */
export function checkPath(raw: string, limits: Pick<ReplyLimits, "maxPathLength">): PathCheck {
  if (raw.includes("\0")) return { ok: false, reason: "contains a NUL byte" };
  const trimmed = raw.trim();
  if (trimmed === "") return { ok: false, reason: "is empty" };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0001-\u001f\u007f]/.test(trimmed)) return { ok: false, reason: "contains a control character" };
  if (/^(\\\\|\/\/)/.test(trimmed)) return { ok: false, reason: "is a UNC or network path" };
  if (/^[a-zA-Z]:/.test(trimmed)) return { ok: false, reason: "has a drive letter" };
  const slashed = trimmed.replace(/\\/g, "/");
  if (slashed.startsWith("/")) return { ok: false, reason: "is absolute" };
  if (slashed === "~" || /^~[^/]*\//.test(slashed)) {
    return { ok: false, reason: "points into a home folder" };
  }
  if (slashed.endsWith("/")) return { ok: false, reason: "names a folder, not a file" };
  const normal = posix.normalize(slashed).replace(/^(\.\/)+/, "");
  if (normal === "." || normal === "") return { ok: false, reason: "names the workspace itself" };
  if (normal === ".." || normal.startsWith("../")) return { ok: false, reason: "escapes the workspace" };
  const segments = normal.split("/");
  if (segments.some((s) => s.toLowerCase() === ".git")) return { ok: false, reason: "points into .git" };
  if (Buffer.byteLength(normal) > limits.maxPathLength) {
    return { ok: false, reason: `is too long (over ${limits.maxPathLength} bytes)` };
  }
  if (segments.some((s) => Buffer.byteLength(s) > 255)) {
    return { ok: false, reason: "has a name longer than 255 bytes" };
  }
  return { ok: true, path: normal };
}

/** A reply's files, Dockerfile, edits and deletions, before normalisation. */
export interface RawChanges {
  dockerfile: string | null;
  files: FileEntry[] | null;
  /** Missing in answers recorded before edits existed. */
  edits?: FileEdit[] | null;
  delete: string[] | null;
}

/**
 * Turns a reply into changes that are safe to apply: every path checked, the model's usual
 * slips repaired (a Dockerfile sent as a file, duplicate paths), the rest refused with a reason.
 */
export function normalizeChanges(raw: RawChanges, limits: ReplyLimits): Changes {
  const refused: RefusedPath[] = [];
  // Refused paths are echoed (stderr, run.json, journal, the judge): never a whole 2 MiB one.
  const refuse = (path: string, reason: string) => refused.push({ path: cutEcho(path), reason });
  const notes: string[] = [];
  const field = raw.dockerfile !== null && raw.dockerfile.trim() !== "" ? raw.dockerfile : null;
  let dockerfile = field;
  const byPath = new Map<string, string>();

  for (const file of raw.files ?? []) {
    const check = checkPath(file.path, limits);
    if (!check.ok) {
      refuse(file.path, check.reason);
      continue;
    }
    const path = check.path;
    // "dockerfile" is the Dockerfile on a case-insensitive disk (macOS, Windows): treat it so.
    if (path.toLowerCase() === "dockerfile") {
      if (field !== null) {
        if (file.content !== field) {
          notes.push("a Dockerfile came both as the dockerfile field and as a file; the field was used");
        }
      } else if (dockerfile === null) {
        dockerfile = file.content;
        notes.push("the Dockerfile came as a file; used it as the Dockerfile");
      } else {
        // Sent twice as a file: the last one wins, as for any other duplicate path.
        dockerfile = file.content;
        notes.push(`${DOCKERFILE} came more than once; the last one was kept`);
      }
      continue;
    }
    if (byPath.size >= limits.maxFiles && !byPath.has(path)) {
      refuse(path, `is beyond the ${limits.maxFiles} files one reply may write`);
      continue;
    }
    const bytes = Buffer.byteLength(file.content);
    if (bytes > limits.maxFileBytes) {
      refuse(path, `is too large (${bytes} bytes; the limit is ${limits.maxFileBytes})`);
      continue;
    }
    if (byPath.has(path)) {
      notes.push(`${cutEcho(path)} came more than once; the last one was kept`);
      byPath.delete(path); // keep the reply's order: the last one wins, in its place
    }
    byPath.set(path, file.content);
  }

  if (dockerfile !== null && Buffer.byteLength(dockerfile) > limits.maxFileBytes) {
    refuse(DOCKERFILE, "is too large");
    dockerfile = null;
  }

  const edits: FileEdit[] = [];
  for (const [i, edit] of (raw.edits ?? []).entries()) {
    // Numbered from 1 as the model would count them; the reason goes back to it.
    const refuseEdit = (path: string, reason: string) => refuse(path, `edit ${i + 1} refused: ${reason}`);
    const check = checkPath(edit.path, limits);
    if (!check.ok) {
      refuseEdit(edit.path, `the path ${check.reason}`);
      continue;
    }
    const path = check.path.toLowerCase() === "dockerfile" ? DOCKERFILE : check.path;
    if (edits.length >= limits.maxFiles) {
      refuseEdit(path, `is beyond the ${limits.maxFiles} edits one reply may make`);
    } else if (edit.search === "") {
      refuseEdit(path, "the search text is empty; send the whole file in files instead");
    } else if (Buffer.byteLength(edit.replace) > limits.maxFileBytes) {
      refuseEdit(path, `the replacement is too large (the limit is ${limits.maxFileBytes} bytes)`);
    } else {
      edits.push({ path, search: edit.search, replace: edit.replace });
    }
  }

  const deletions: string[] = [];
  for (const rawPath of raw.delete ?? []) {
    const check = checkPath(rawPath, limits);
    if (!check.ok) {
      refuse(rawPath, check.reason);
    } else if (check.path.toLowerCase() === "dockerfile") {
      refuse(rawPath, "is the Dockerfile, which cannot be deleted (send a new one)");
    } else if (byPath.has(check.path)) {
      notes.push(`${cutEcho(check.path)} was both written and deleted; it was written`);
    } else if (!deletions.includes(check.path)) {
      if (edits.some((e) => e.path === check.path)) {
        notes.push(
          `${cutEcho(check.path)} was both edited and deleted; edits apply first, so it was deleted`,
        );
      }
      deletions.push(check.path);
    }
  }

  return {
    dockerfile,
    files: [...byPath].map(([path, content]) => ({ path, content })),
    edits,
    maxFileBytes: limits.maxFileBytes,
    delete: deletions,
    refused,
    notes,
  };
}

/**
 * The report of applied changes as it is echoed: at most ECHO_ITEMS refusals and notes, then
 * one entry saying how many more there were (a reply may be refused 5,000 times).
 */
export function boundReport(report: ApplyReport): ApplyReport {
  return {
    ...report,
    refused: boundList(report.refused, (left) => ({
      path: `(${left} more)`,
      reason: `refused too; only the first ${ECHO_ITEMS} refusals are listed`,
    })),
    notes: boundList(report.notes, (left) => `(${left} more notes left out)`),
  };
}
