import { realpathSync } from "node:fs";
import { isAbsolute, resolve, sep } from "node:path";
import { validateLayer } from "../config/load.js";
import type { ConfigInput } from "../config/schema.js";
import { LOOSENING } from "../config/trust.js";
import { UsageError } from "../core/errors.js";

/** Which of the task formats a task was read from. */
export type TaskFormat = "jsonl" | "azlon" | "harbor";

/** A task's reference solution, for --oracle: what a model that knows the answer would send. */
export type Solution =
  /** azlon's own: a whole project (Dockerfile and files), sent as the first answer. */
  | { kind: "project"; dir: string }
  /**
   * Harbor's: solution/solve.sh, run (as Harbor's oracle agent runs it) in the task's
   * environment, here as a build step after the environment's own.
   */
  | {
      kind: "script";
      dir: string;
      script: string;
      env: Record<string, string>;
      /** The environment's Dockerfile, or null when task.toml names a prebuilt image. */
      dockerfile: string | null;
      image: string | null;
    };

/** One task of a batch, as its format gave it; its options are checked config keys. */
export interface BatchTask {
  /** Unique in the batch; a folder task's is its folder name. Safe as a folder name. */
  id: string;
  format: TaskFormat;
  /** Where it came from, as messages name it: "tasks.jsonl line 3", "/x/tasks/hello". */
  source: string;
  prompt: string;
  tests: string;
  /** The task's own config layer: its checks, limits and options. */
  layer: ConfigInput;
  /** The project the run starts from (an absolute folder), or null. */
  from: string | null;
  solution: Solution | null;
}

/** A task id is a folder name in the batch folder: short, plain, never a path. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function checkId(id: unknown, where: string): string {
  if (typeof id !== "string" || id === "") {
    throw new UsageError(`${where}: the task has no "id"`, 'give each task an "id", such as "hello-cli"');
  }
  if (!ID.test(id) || id.includes("..")) {
    throw new UsageError(
      `${where}: the task id ${JSON.stringify(id.slice(0, 120))} cannot name a folder`,
      "use letters, digits, '.', '_' and '-' (at most 100), starting with a letter or digit",
    );
  }
  return id;
}

/** Keys a task may not set: the batch decides where its runs go. */
const BATCH_KEYS = ["out"] as const;

/**
 * What a task set from elsewhere may not do through its options, as a config file azlon finds
 * may not (src/config/trust.ts): send the API key to another endpoint, write to your repository,
 * or loosen the box and the meter. The batch's own flags may set each of them for every task.
 */
const UNTRUSTED: ReadonlyArray<
  readonly [keyof ConfigInput, (layer: ConfigInput) => boolean, string, string]
> = [
  ["baseUrl", (l) => l.baseUrl !== undefined, "would send your API key to its own endpoint", "--base-url"],
  ["from", (l) => l.from !== undefined, 'names a project in its options; a task names it as "from"', ""],
  ["branch", (l) => l.branch !== undefined, "would write a branch to your repository", ""],
  ["apply", (l) => l.apply !== undefined, "would write into your folder", ""],
  ...LOOSENING,
];

function refuseUntrusted(layer: ConfigInput, where: string): void {
  for (const [key, sets, what, flag] of UNTRUSTED) {
    if (!sets(layer)) continue;
    throw new UsageError(
      `${where}: the task's "${key}" ${what}; a task's options may not`,
      flag
        ? `give ${flag} to azlon batch yourself, for every task`
        : key === "prices"
          ? "put prices in a config you name with --config"
          : `remove "${key}" from the task`,
    );
  }
}

/**
 * A task's options as a config layer, checked as a config file's are: an unknown key or a bad
 * value is an error naming the task. Paths in it are relative to the task's own folder.
 */
export function taskLayer(options: unknown, where: string, base: string): ConfigInput {
  if (options === undefined || options === null) return {};
  const layer = validateLayer(options, {
    where: ` in ${where}`,
    name: (key) => `"${key}"`,
    fix: () => `fix the task in ${where}`,
  });
  for (const key of BATCH_KEYS) {
    if (layer[key] !== undefined) {
      throw new UsageError(`${where}: a task cannot set "${key}"`, "the batch's --out decides where runs go");
    }
  }
  refuseUntrusted(layer, where);
  if (layer.checksDir) layer.checksDir = within(base, layer.checksDir, '"checksDir"', where);
  if (layer.prompts) {
    layer.prompts = Object.fromEntries(
      Object.entries(layer.prompts).map(([name, path]) => [
        name,
        within(base, path as string, `the template "${name}"`, where),
      ]),
    );
  }
  return layer;
}

/**
 * A path a task names, made absolute from the task's folder, and kept inside it (links
 * followed): a task set from elsewhere must not have your files copied into its checks, shown to
 * the model as a project, or read as its templates.
 */
export function within(base: string, path: string, what = "a path", where = base): string {
  const full = isAbsolute(path) ? path : resolve(base, path);
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p); // not there: the check that it exists says so
    }
  };
  const root = real(base);
  const target = real(full);
  if (target !== root && !target.startsWith(`${root}${sep}`)) {
    throw new UsageError(
      `${where}: ${what} ${path} is outside the task's own folder ${base}`,
      "keep a task's checks, project, solution and templates in its folder (beside a .jsonl file: under its folder)",
    );
  }
  return full;
}

/** Refuses a task without what to build or how to tell that it works. */
export function requireText(value: unknown, what: "prompt" | "tests", where: string, fix: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new UsageError(
      `${where}: the task is missing its ${what}${value === undefined ? "" : " (empty or not text)"}`,
      fix,
    );
  }
  return value.trim();
}

/** Refuses two tasks of one id, naming both places. */
export function checkUnique(tasks: readonly BatchTask[]): void {
  const seen = new Map<string, string>();
  for (const task of tasks) {
    const first = seen.get(task.id);
    if (first !== undefined) {
      throw new UsageError(
        `two tasks have the id "${task.id}": ${first} and ${task.source}`,
        "give every task its own id",
      );
    }
    seen.set(task.id, task.source);
  }
}
