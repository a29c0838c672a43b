import { randomUUID } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { git, gitText, splitZ } from "./git.js";
import type { SourceFile, TreeEntry } from "./source-list.js";

/** The run folder's own git store: the snapshot as a tree, and the blobs a patch or branch needs. */
export const STORE_DIR = "source.git";
/** The snapshot's entries, as an index file inside the store (never the user's index). */
const SNAPSHOT_INDEX = "snapshot.index";

const MODES: Record<SourceFile["kind"], string> = { file: "100644", exec: "100755", link: "120000" };

/** A file as a tree entry's mode. */
export function modeOf(file: SourceFile): string {
  return MODES[file.kind];
}

/**
 * A git store of azlon's own, in the run folder: the project is hashed into it with no filter
 * (the bytes as they are), its trees are written with blobs only where a diff will read them
 * (files changed by the user or by azlon), and the patch is git's own diff of two trees. Nothing
 * here reads the user's repository or its config.
 */
export class SourceStore {
  readonly gitDir: string;

  constructor(
    readonly runDir: string,
    private readonly objectFormat: "sha1" | "sha256",
  ) {
    this.gitDir = join(runDir, STORE_DIR);
  }

  private call(extra: { input?: Buffer | string; indexFile?: string; cwd?: string } = {}) {
    return { cwd: extra.cwd ?? this.runDir, gitDir: this.gitDir, ...extra };
  }

  async init(): Promise<void> {
    if (existsSync(join(this.gitDir, "HEAD"))) return;
    await git(["init", "-q", "--bare", "--template=", `--object-format=${this.objectFormat}`, this.gitDir], {
      cwd: this.runDir,
    });
  }

  /**
   * The blob ids of files under root, hashed as their bytes are (a link as its target); with
   * `write`, the blobs are stored too. One git process for the lot.
   */
  async hash(root: string, files: readonly SourceFile[], write: boolean): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!files.length) return out;
    const scratch = join(this.gitDir, "azlon-links");
    rmSync(scratch, { recursive: true, force: true });
    const inputs: string[] = [];
    const order: string[] = [];
    for (const [i, f] of files.entries()) {
      let input = join(root, f.path);
      // A link is its target's text; a name with a newline cannot go on git's line-based input.
      if (f.kind === "link" || f.path.includes("\n")) {
        mkdirSync(scratch, { recursive: true });
        input = join(scratch, String(i));
        const data = f.kind === "link" ? Buffer.from(f.target ?? "") : await readFile(join(root, f.path));
        writeFileSync(input, data);
      }
      inputs.push(input);
      order.push(f.path);
    }
    const args = ["hash-object", ...(write ? ["-w"] : []), "--no-filters", "--stdin-paths"];
    const shas = (await gitText(args, this.call({ input: `${inputs.join("\n")}\n` }))).split("\n");
    rmSync(scratch, { recursive: true, force: true });
    for (const [i, path] of order.entries()) out.set(path, shas[i] ?? "");
    return out;
  }

  /** Keeps the snapshot's entries as an index file of the store's (trees are written only when needed). */
  async saveSnapshot(entries: readonly TreeEntry[]): Promise<void> {
    const indexFile = join(this.gitDir, SNAPSHOT_INDEX);
    rmSync(indexFile, { force: true });
    const input = entries.map((e) => `${e.mode} ${e.sha}\t${e.path}\0`).join("");
    await git(["update-index", "-z", "--index-info"], this.call({ input, indexFile }));
  }

  /** The snapshot's entries, from its index file. */
  async snapshotEntries(): Promise<TreeEntry[]> {
    const out = await git(
      ["ls-files", "-s", "-z"],
      this.call({ indexFile: join(this.gitDir, SNAPSHOT_INDEX) }),
    );
    return splitZ(out.stdout).map((line) => {
      const tab = line.indexOf("\t");
      const [mode = "", sha = ""] = line.slice(0, tab).split(" ");
      return { mode, sha, path: line.slice(tab + 1) };
    });
  }

  /** Writes a tree of these entries (blobs may be missing: only trees are written) and gives its id. */
  async writeTree(entries: readonly TreeEntry[]): Promise<string> {
    // An index file of its own each time: two trees may be written at once.
    const indexFile = join(this.gitDir, `azlon-${randomUUID()}.index`);
    const input = entries.map((e) => `${e.mode} ${e.sha}\t${e.path}\0`).join("");
    await git(["update-index", "-z", "--index-info"], this.call({ input, indexFile }));
    const tree = await gitText(["write-tree", "--missing-ok"], this.call({ indexFile }));
    rmSync(indexFile, { force: true });
    return tree;
  }

  /** Every entry of a tree, recursively. */
  async listTree(tree: string): Promise<TreeEntry[]> {
    const out = await git(["ls-tree", "-r", "-z", "--full-tree", tree], this.call());
    return splitZ(out.stdout).map((line) => {
      const tab = line.indexOf("\t");
      const [mode = "", , sha = ""] = line.slice(0, tab).split(" ");
      return { mode, sha, path: line.slice(tab + 1) };
    });
  }

  /** Whether the store holds these objects (the blobs a diff will read). */
  async missing(shas: readonly string[]): Promise<string[]> {
    if (!shas.length) return [];
    const out = await git(
      ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
      this.call({ input: `${shas.join("\n")}\n` }),
    );
    return out.stdout
      .toString()
      .split("\n")
      .filter((l) => l.endsWith(" missing"))
      .map((l) => l.split(" ")[0] ?? "");
  }

  /** The contents of blobs, by id. */
  async blobs(shas: readonly string[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    if (!shas.length) return out;
    const raw = (await git(["cat-file", "--batch"], this.call({ input: `${shas.join("\n")}\n` }))).stdout;
    let at = 0;
    while (at < raw.length) {
      const end = raw.indexOf(10, at);
      const [sha = "", , size = "0"] = raw.subarray(at, end).toString().split(" ");
      const start = end + 1;
      out.set(sha, raw.subarray(start, start + Number(size)));
      at = start + Number(size) + 1;
    }
    return out;
  }

  /** A pack of these objects, to hand to another repository (git unpack-objects). */
  async pack(shas: readonly string[]): Promise<Buffer> {
    return (await git(["pack-objects", "-q", "--stdout"], this.call({ input: `${shas.join("\n")}\n` })))
      .stdout;
  }

  /** git's own diff of two trees: binary-safe, with modes, full blob ids (what `git apply` takes). */
  async diff(from: string, to: string, prefix: string): Promise<Buffer> {
    const args = ["diff-tree", "-r", "-p", "--binary", "--full-index", "--no-renames", "--no-color"];
    const prefixes = [`--src-prefix=a/${prefix}`, `--dst-prefix=b/${prefix}`];
    return (await git([...args, ...prefixes, from, to], this.call())).stdout;
  }

  /** What changed between two trees, path by path. */
  async changes(
    from: string,
    to: string,
  ): Promise<Array<{ path: string; before: TreeEntry | null; after: TreeEntry | null }>> {
    const out = await git(["diff-tree", "-r", "-z", "--no-renames", from, to], this.call());
    const parts = splitZ(out.stdout);
    const changes: Array<{ path: string; before: TreeEntry | null; after: TreeEntry | null }> = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const [oldMode = "", newMode = "", oldSha = "", newSha = ""] = (parts[i] ?? "").slice(1).split(" ");
      const path = parts[i + 1] ?? "";
      const absent = (mode: string) => /^0+$/.test(mode);
      changes.push({
        path,
        before: absent(oldMode) ? null : { mode: oldMode, sha: oldSha, path },
        after: absent(newMode) ? null : { mode: newMode, sha: newSha, path },
      });
    }
    return changes;
  }
}

/**
 * The files of a folder as they are on disk: regular files and links (never followed), by path.
 * Synchronous: thousands of small lstat calls take milliseconds this way, far longer one by one
 * through the thread pool.
 */
export async function walkFiles(root: string): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const path = relative(root, full).split(sep).join("/");
      if (entry.isDirectory()) walk(full);
      else if (entry.isSymbolicLink()) {
        const target = readlinkSync(full);
        files.push({ path, kind: "link", size: Buffer.byteLength(target), target });
      } else if (entry.isFile()) {
        const stat = lstatSync(full);
        files.push({ path, kind: stat.mode & 0o111 ? "exec" : "file", size: stat.size });
      }
    }
  };
  if (existsSync(root)) walk(root);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
