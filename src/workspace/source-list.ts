import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, sep } from "node:path";
import { UsageError } from "../core/errors.js";
import { fileErrorCause } from "../util/file-errors.js";
import { formatBytes } from "../util/format.js";
import { gitSync, splitZ } from "./git.js";

/** A file of the user's project: a regular file (executable or not) or a symbolic link. */
export interface SourceFile {
  path: string;
  kind: "file" | "exec" | "link";
  /** Bytes of the file (of the link's target path, for a link). */
  size: number;
  /** A link's target, as written (never followed). */
  target?: string;
  /** The file's permission bits, when they were read. */
  perm?: number;
}

/** An entry of a git tree: what azlon keeps of a path it does not copy (a submodule). */
export interface TreeEntry {
  mode: string;
  sha: string;
  path: string;
}

/** The user's project as azlon will copy it, and what git says about it. */
export interface SourceListing {
  kind: "git" | "folder";
  /** The folder given (absolute). */
  dir: string;
  /** The repository's top folder (git); the folder itself otherwise. */
  top: string;
  /** The folder's path inside the repository with a slash ("" at the top). */
  prefix: string;
  /** The repository's own folder for this work tree (git), else null. */
  gitDir: string | null;
  commit: string | null;
  branch: string | null;
  objectFormat: "sha1" | "sha256";
  files: SourceFile[];
  /** Submodules: kept in the tree as they are, not copied (their files are another repository's). */
  held: TreeEntry[];
  bytes: number;
}

/** What a repository in the middle of one of these cannot be snapshot in, by the file that says so. */
const IN_PROGRESS: Array<[string, string]> = [
  ["MERGE_HEAD", "a merge"],
  ["rebase-merge", "a rebase"],
  ["rebase-apply", "a rebase (or git am)"],
  ["CHERRY_PICK_HEAD", "a cherry-pick"],
  ["REVERT_HEAD", "a revert"],
];

/** Folders a plain folder's snapshot leaves out, besides what its .gitignore files exclude. */
const PLAIN_EXCLUDES = ["node_modules/", ".git"];

function usage(dir: string, what: string, fix: string): UsageError {
  return new UsageError(`--from ${dir} ${what}`, fix);
}

/** The folder given exists and is a folder (a link to one is fine: its contents are copied). */
function checkFolder(dir: string): void {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch (error) {
    throw usage(
      dir,
      (error as NodeJS.ErrnoException).code === "ENOENT"
        ? "does not exist"
        : `cannot be read: ${fileErrorCause(error)}`,
      "give --from the folder of your project",
    );
  }
  if (!stat.isDirectory())
    throw usage(dir, "is a file, not a folder", "give --from the folder of your project");
}

interface RepoInfo {
  top: string;
  gitDir: string;
  prefix: string;
  objectFormat: "sha1" | "sha256";
}

/** The repository around dir, or null when dir is in none. */
function repoOf(dir: string): RepoInfo | null {
  const r = gitSync(
    [
      "rev-parse",
      "--is-inside-work-tree",
      "--show-toplevel",
      "--absolute-git-dir",
      "--show-prefix",
      "--show-object-format",
    ],
    { cwd: dir, allowFail: true },
  );
  if (r.code !== 0) {
    if (/dubious ownership/.test(r.stderr)) {
      throw usage(
        dir,
        "is a git repository owned by another user, which git refuses to read",
        "run azlon as the repository's owner, or (if you trust it) add it to safe.directory in your global git config",
      );
    }
    return null;
  }
  const [inside, top, gitDir, prefix, format] = r.stdout.toString("utf8").split("\n");
  if (inside !== "true" || !top || !gitDir) {
    throw usage(
      dir,
      "is inside a git repository's own folder, not its work tree",
      "give the work tree's folder",
    );
  }
  const objectFormat = format === "sha256" ? "sha256" : "sha1";
  return { top, gitDir, prefix: prefix ?? "", objectFormat };
}

function headOf(dir: string): { commit: string | null; branch: string | null } {
  const head = gitSync(["rev-parse", "-q", "--verify", "HEAD^{commit}"], { cwd: dir, allowFail: true });
  const branch = gitSync(["symbolic-ref", "-q", "--short", "HEAD"], { cwd: dir, allowFail: true });
  return {
    commit: head.code === 0 ? head.stdout.toString().trim() : null,
    branch: branch.code === 0 ? branch.stdout.toString().trim() || null : null,
  };
}

/**
 * Paths git lists under dir, in one pass: tracked ones (with their modes) and untracked ones
 * .gitignore allows. -t tags each line, so an untracked name shaped like a tracked line is
 * still read as a name.
 */
function gitPaths(dir: string): { tracked: Map<string, TreeEntry>; untracked: string[] } {
  const tracked = new Map<string, TreeEntry>();
  const untracked: string[] = [];
  const out = gitSync(["ls-files", "-z", "-t", "-c", "-s", "-o", "--exclude-standard"], { cwd: dir });
  for (const line of splitZ(out.stdout)) {
    const space = line.indexOf(" ");
    if (line.slice(0, space) === "?") {
      untracked.push(line.slice(space + 1));
      continue;
    }
    const tab = line.indexOf("\t");
    const [mode, sha] = line.slice(space + 1, tab).split(" ");
    const path = line.slice(tab + 1);
    if (mode && sha) tracked.set(path, { mode, sha, path });
  }
  return { tracked, untracked };
}

/** A plain folder's files, as git would list them untracked: its .gitignore files honoured. */
function plainPaths(dir: string): string[] {
  const scratch = mkdtempSync(join(tmpdir(), "azlon-list-"));
  try {
    const gitDir = join(scratch, "git");
    gitSync(["init", "-q", "--bare", "--template=", gitDir], { cwd: scratch });
    mkdirSync(join(gitDir, "info"), { recursive: true });
    writeFileSync(join(gitDir, "info", "exclude"), `${PLAIN_EXCLUDES.join("\n")}\n`);
    const out = gitSync(["ls-files", "-z", "-o", "--exclude-standard"], { cwd: dir, gitDir, workTree: dir });
    return splitZ(out.stdout);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Where the folder is inside dir, with a slash, when it is (the run folders, under --out). */
function insideOf(dir: string, inner: string | null): string | null {
  if (inner === null) return null;
  const rel = relative(dir, inner);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return rel === "" ? "" : null;
  return `${rel.split(sep).join("/")}/`;
}

/** Each path as a file, an executable, or a link (never followed); folders and missing files left out. */
function statFiles(dir: string, paths: Iterable<string>, skip: string | null): SourceFile[] {
  const files: SourceFile[] = [];
  for (const path of paths) {
    if (path.endsWith("/") || (skip !== null && path.startsWith(skip))) continue;
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(join(dir, path));
    } catch {
      continue; // a tracked file the user deleted: deleted in the snapshot too
    }
    if (stat.isSymbolicLink()) {
      const target = readlinkSync(join(dir, path));
      files.push({ path, kind: "link", size: Buffer.byteLength(target), target });
    } else if (stat.isFile()) {
      files.push({
        path,
        kind: stat.mode & 0o111 ? "exec" : "file",
        size: stat.size,
        perm: stat.mode & 0o777,
      });
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The largest folders and files, to say what makes a project too big. */
function largest(files: readonly SourceFile[]): string {
  const sizes = new Map<string, number>();
  for (const f of files) {
    const top = f.path.includes("/") ? `${f.path.slice(0, f.path.indexOf("/"))}/` : f.path;
    sizes.set(top, (sizes.get(top) ?? 0) + f.size);
  }
  return [...sizes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, bytes]) => `${name} ${formatBytes(bytes)}`)
    .join(", ");
}

/**
 * Lists the project --from names, as azlon will copy it: in a git work tree, the tracked files
 * as they are on disk (uncommitted changes too) and the untracked ones .gitignore allows;
 * elsewhere, the folder without .git, node_modules and what its .gitignore files exclude. The
 * run folders (when --out is inside it) are left out. Refuses, before any request, a folder
 * that is missing, a file, a repository in the middle of a merge or rebase, or over the bound.
 */
export function listSource(dir: string, maxBytes: number, outDir: string | null = null): SourceListing {
  checkFolder(dir);
  let repo = repoOf(dir);
  let tracked = new Map<string, TreeEntry>();
  let paths: string[] = [];
  if (repo) {
    const listed = gitPaths(dir);
    tracked = listed.tracked;
    paths = [...listed.tracked.keys(), ...listed.untracked];
    // A folder in a repository that tracks nothing there (a home folder kept in git, with
    // "*" in its .gitignore) is a plain folder, not an empty part of that repository.
    if (repo.prefix !== "" && tracked.size === 0) repo = null;
  }
  if (!repo) paths = plainPaths(dir);
  if (repo) {
    for (const [file, what] of IN_PROGRESS) {
      if (existsSync(join(repo.gitDir, file))) {
        throw usage(
          dir,
          `is a git repository in the middle of ${what}`,
          "finish it or abort it (git status says how), then run azlon again",
        );
      }
    }
  }
  const skip = insideOf(dir, outDir);
  const unique = new Set(paths);
  const held = [...tracked.values()].filter((e) => e.mode === "160000" && existsSync(join(dir, e.path)));
  const files = statFiles(dir, unique, skip).filter((f) => tracked.get(f.path)?.mode !== "160000");
  const bytes = files.reduce((n, f) => n + f.size, 0);
  if (bytes > maxBytes) {
    throw usage(
      dir,
      `holds ${formatBytes(bytes)} of files to copy, over the ${formatBytes(maxBytes)} bound (largest: ${largest(files)})`,
      "leave build output and data out with .gitignore, point --from at a smaller folder, or raise maxFromSize (--max-from-size)",
    );
  }
  const head = repo ? headOf(dir) : { commit: null, branch: null };
  return {
    kind: repo ? "git" : "folder",
    dir,
    top: repo?.top ?? dir,
    prefix: repo?.prefix ?? "",
    gitDir: repo?.gitDir ?? null,
    ...head,
    objectFormat: repo?.objectFormat ?? "sha1",
    files,
    held,
    bytes,
  };
}
