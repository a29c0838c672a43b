import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { formatBytes } from "../util/format.js";

/*
 * How a large project is shown to the model: a map of its paths and sizes within a bound
 * (folders that matter least summarised), and, within a budget much smaller than a whole
 * project's, the files most likely to matter: manifests, the README, files whose names or
 * contents share the task's words. The model reads the rest by asking (`read`).
 */

/** The most bytes of the map. */
export const MAP_BYTES = 24 * 1024;
/** A folder lists at most this many of its own files; the rest are counted. */
export const FOLDER_FILES = 40;
/** The most bytes of files the first request shows whole. */
export const CONTEXT_BYTES = 64 * 1024;
/** A file larger than this is named, not shown, in the first request (the model may read it). */
export const CONTEXT_FILE_BYTES = 24 * 1024;
/** Files read for their words; larger ones are scored by their names alone. */
const SCAN_BYTES = 256 * 1024;
/** The most bytes of contents read to find the files that matter. */
const SCAN_TOTAL = 8 * 2 ** 20;
/** Files read at the same time. */
const READ_BATCH = 64;
/** The most task words a file's contents are searched for. */
const MAX_TERMS = 24;

export interface MapFile {
  path: string;
  size: number;
}

const MANIFESTS = new Set([
  "package.json",
  "pyproject.toml",
  "setup.py",
  "setup.cfg",
  "requirements.txt",
  "go.mod",
  "cargo.toml",
  "pom.xml",
  "build.gradle",
  "build.gradle.kts",
  "gemfile",
  "composer.json",
  "makefile",
  "cmakelists.txt",
  "tsconfig.json",
  "tox.ini",
  "pytest.ini",
  ".dockerignore",
]);
const LOCKFILES =
  /(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|poetry\.lock|cargo\.lock|go\.sum|gemfile\.lock|composer\.lock|uv\.lock)$/i;
/** Files that usually hold secrets: never chosen to show (the model may still ask to read one). */
const SECRETISH = /(^|\/)(\.env(\.[^/]*)?|id_(rsa|dsa|ecdsa|ed25519)[^/]*|[^/]*\.(pem|key|p12|pfx))$/i;
const STOPWORDS = new Set(
  (
    "the and for with that this from into when then than them they their there these those what which " +
    "while where your you are was were will would should could must can not but all any each every " +
    "have has had been being does did done doing make makes made add adds fix fixes use uses used using " +
    "file files test tests print prints printed output outputs return returns run runs running code " +
    "project program its it's one two new old also only just like more most some such very way ways " +
    "exit exits line lines show shows work works given get gets set sets value values true false none null"
  ).split(" "),
);

/** The task's words worth looking for: identifiers of three letters or more, common words left out. */
export function taskTerms(text: string): string[] {
  const words = text.toLowerCase().match(/[a-z_][a-z0-9_]{2,}/g) ?? [];
  const seen = new Set<string>();
  for (const w of words) if (!STOPWORDS.has(w)) seen.add(w);
  // The longest first: they say most, and the search is bounded.
  return [...seen].sort((a, b) => b.length - a.length || (a < b ? -1 : 1)).slice(0, MAX_TERMS);
}

function pathWords(path: string): string[] {
  return path
    .toLowerCase()
    .split(/[^a-z0-9]+|(?<=[a-z])(?=[0-9])/)
    .filter(Boolean);
}

/** How much a path's names share the task's words. */
function nameScore(path: string, terms: readonly string[]): number {
  const words = new Set(pathWords(path));
  const base = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  let score = 0;
  for (const t of terms) {
    const parts = t.split("_").filter((p) => p.length >= 3);
    if (words.has(t) || base.includes(t)) score += base.includes(t) ? 4 : 3;
    else if (parts.length > 1 && parts.every((p) => words.has(p))) score += 2;
  }
  return score;
}

interface Dir {
  path: string;
  dirs: Map<string, Dir>;
  files: Array<MapFile & { score: number }>;
  count: number;
  bytes: number;
  score: number;
  depth: number;
}

function buildTree(files: readonly MapFile[], terms: readonly string[]): Dir {
  const root: Dir = { path: "", dirs: new Map(), files: [], count: 0, bytes: 0, score: 0, depth: 0 };
  for (const f of files) {
    const score = nameScore(f.path, terms);
    const parts = f.path.split("/");
    let dir = root;
    const chain = [root];
    for (const part of parts.slice(0, -1)) {
      let next = dir.dirs.get(part);
      if (!next) {
        next = {
          path: `${dir.path}${part}/`,
          dirs: new Map(),
          files: [],
          count: 0,
          bytes: 0,
          score: 0,
          depth: dir.depth + 1,
        };
        dir.dirs.set(part, next);
      }
      dir = next;
      chain.push(dir);
    }
    dir.files.push({ ...f, score });
    for (const d of chain) {
      d.count++;
      d.bytes += f.size;
      d.score = Math.max(d.score, score);
    }
  }
  return root;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The files a folder lists itself: those that matter first, then by name, up to the bound. */
function listedFiles(dir: Dir): { shown: Dir["files"]; left: Dir["files"] } {
  const sorted = [...dir.files].sort((a, b) => b.score - a.score || byName(a.path, b.path));
  const shown = sorted.slice(0, FOLDER_FILES).sort((a, b) => byName(a.path, b.path));
  return { shown, left: sorted.slice(FOLDER_FILES) };
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

function summary(dir: Dir): string {
  return `${dir.path.slice(dir.path.slice(0, -1).lastIndexOf("/") + 1)} (${plural(dir.count, "file")}, ${formatBytes(dir.bytes)})`;
}

/** What opening a folder adds to the map, in bytes. */
function openCost(dir: Dir): number {
  const indent = 2 * (dir.depth + 1);
  let cost = 0;
  for (const d of dir.dirs.values()) cost += indent + summary(d).length + 1;
  const { shown, left } = listedFiles(dir);
  for (const f of shown) cost += indent + f.path.length - dir.path.length + 12;
  if (left.length) cost += indent + 40;
  return cost;
}

/**
 * The project's paths with their sizes, as an indented tree within MAP_BYTES: the folders whose
 * names share the task's words open first, then the shallow and the small; a folder left
 * closed is one line with its count and size, and a folder lists at most FOLDER_FILES files.
 */
export function formatMap(files: readonly MapFile[], task = ""): string {
  const root = buildTree(files, taskTerms(task));
  const open = new Set<Dir>([root]);
  let used = openCost(root);
  const queue = [...root.dirs.values()];
  const rank = (a: Dir, b: Dir) => b.score - a.score || a.depth - b.depth || a.count - b.count;
  while (queue.length) {
    queue.sort(rank);
    const dir = queue.shift() as Dir;
    const cost = openCost(dir);
    if (used + cost > MAP_BYTES) continue;
    used += cost;
    open.add(dir);
    queue.push(...dir.dirs.values());
  }
  const lines: string[] = [];
  const render = (dir: Dir, indent: string): void => {
    for (const name of [...dir.dirs.keys()].sort(byName)) {
      const sub = dir.dirs.get(name) as Dir;
      if (open.has(sub)) {
        lines.push(`${indent}${name}/`);
        render(sub, `${indent}  `);
      } else lines.push(`${indent}${summary(sub)}`);
    }
    const { shown, left } = listedFiles(dir);
    for (const f of shown) lines.push(`${indent}${f.path.slice(dir.path.length)} (${formatBytes(f.size)})`);
    if (left.length) {
      const bytes = left.reduce((n, f) => n + f.size, 0);
      lines.push(`${indent}… and ${plural(left.length, "more file")} (${formatBytes(bytes)})`);
    }
  };
  render(root, "");
  const total = `${plural(root.count, "file")}, ${formatBytes(root.bytes)}`;
  return `${total}\n${lines.join("\n")}`;
}

/** A file's place in the first request: how likely it is to matter. */
interface Candidate {
  path: string;
  size: number;
  score: number;
}

function isBinary(data: Buffer): boolean {
  return data.subarray(0, 8000).includes(0);
}

/**
 * The files most likely to matter to the task, best first: the manifests and the README near
 * the top, then files whose names share the task's words, then those whose contents do (a rare
 * word counts for more). `shown` fit the budget whole; `named` are the next ones, by name.
 */
export async function contextFiles(
  root: string,
  files: readonly MapFile[],
  task: string,
  budget = CONTEXT_BYTES,
  exclude: ReadonlySet<string> = new Set(),
): Promise<{ shown: string[]; named: string[] }> {
  const terms = taskTerms(task);
  const texts = new Map<string, Buffer>();
  const usable = files.filter(
    (f) => !exclude.has(f.path) && !LOCKFILES.test(f.path) && !SECRETISH.test(f.path) && f.size > 0,
  );
  // Read within a budget: first the files whose names share the task's words, then the shallow
  // and the small (a large repository's contents are not all read before the first request).
  const order = usable
    .filter((f) => f.size <= SCAN_BYTES)
    .map((f) => ({ ...f, name: nameScore(f.path, terms), depth: f.path.split("/").length }))
    .sort((a, b) => b.name - a.name || a.depth - b.depth || a.size - b.size);
  const scanned: MapFile[] = [];
  let left = SCAN_TOTAL;
  for (const f of order) {
    if (f.size > left) continue;
    left -= f.size;
    scanned.push(f);
  }
  for (let i = 0; i < scanned.length; i += READ_BATCH) {
    await Promise.all(
      scanned.slice(i, i + READ_BATCH).map(async (f) => {
        try {
          const data = await readFile(join(root, f.path));
          if (!isBinary(data)) texts.set(f.path, data);
        } catch {
          // A file gone meanwhile: not a candidate.
        }
      }),
    );
  }
  // Searched as bytes (no decoding): the word as the task has it, Capitalised, and in capitals.
  const forms = new Map(terms.map((t) => [t, [t, t[0]?.toUpperCase() + t.slice(1), t.toUpperCase()]]));
  const has = (data: Buffer, t: string) => (forms.get(t) ?? []).some((form) => data.includes(form));
  const found = new Map<string, number>();
  for (const t of terms) {
    let n = 0;
    for (const data of texts.values()) if (has(data, t)) n++;
    found.set(t, n);
  }
  const rarity = (t: string) => Math.log(1 + texts.size / Math.max(1, found.get(t) ?? 0));
  const candidates: Candidate[] = [];
  for (const f of usable) {
    const text = texts.get(f.path);
    if (text === undefined) continue;
    const depth = f.path.split("/").length - 1;
    const base = f.path.slice(f.path.lastIndexOf("/") + 1).toLowerCase();
    let score = nameScore(f.path, terms);
    if (MANIFESTS.has(base) && depth <= 1) score += 6 - depth * 2;
    if (/^readme(\.|$)/.test(base) && depth === 0) score += 5;
    let words = 0;
    for (const t of terms) if (has(text, t)) words += rarity(t);
    score += Math.min(words, 8);
    if (score > 0) candidates.push({ path: f.path, size: f.size, score });
  }
  candidates.sort((a, b) => b.score - a.score || a.size - b.size || byName(a.path, b.path));
  const shown: string[] = [];
  const named: string[] = [];
  let used = 0;
  for (const c of candidates) {
    if (c.size <= CONTEXT_FILE_BYTES && used + c.size <= budget) {
      shown.push(c.path);
      used += c.size;
    } else if (named.length < 20) named.push(c.path);
  }
  return { shown, named };
}
