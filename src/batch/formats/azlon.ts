import { basename, join } from "node:path";
import yaml from "js-yaml";
import { UsageError } from "../../core/errors.js";
import { type BatchTask, checkId, requireText, taskLayer, within } from "../task.js";
import { isFolder, readTaskFile } from "./folders.js";

export const TASK_YAML = "task.yaml";

/** The keys of task.yaml; the folder's checks/, project/ and solution/ need none. */
const KEYS = ["prompt", "tests", "checks", "options"] as const;

/**
 * azlon's own task folder: task.yaml ({prompt, tests, checks?, options?}), checks/ (copied to
 * /azlon/checks: the checks folder), project/ (the project to start from) and solution/ (the
 * reference: files laid over the project, a Dockerfile among them unless the project has one).
 * Its id is the folder's name.
 */
export function parseAzlonFolder(dir: string): BatchTask {
  const where = dir;
  const id = checkId(basename(dir), `the task folder ${dir}`);
  const text = readTaskFile(join(dir, TASK_YAML), where);
  let value: unknown;
  try {
    value = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    throw new UsageError(
      `${join(dir, TASK_YAML)} is not valid YAML: ${(error as Error).message.split("\n")[0]}`,
      "fix its syntax",
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(`${join(dir, TASK_YAML)} must be a mapping of keys`, `keys: ${KEYS.join(", ")}`);
  }
  const doc = value as Record<string, unknown>;
  const unknown = Object.keys(doc).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length) {
    const folderKey = unknown.find((k) => ["id", "checksDir", "from", "solution"].includes(k));
    throw new UsageError(
      `${join(dir, TASK_YAML)}: unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")}`,
      folderKey
        ? "a task folder's id is its name, and its checks/, project/ and solution/ folders need no key"
        : `task.yaml takes ${KEYS.join(", ")}; run options go in "options"`,
    );
  }
  const fix = `${TASK_YAML} needs "prompt" (what to build) and "tests" (how to tell that it works)`;
  const prompt = requireText(doc.prompt, "prompt", where, fix);
  const tests = requireText(doc.tests, "tests", where, fix);
  const options = doc.options ?? {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new UsageError(`${join(dir, TASK_YAML)}: "options" must be a mapping of run options`);
  }
  if ("checks" in options || "checksDir" in options) {
    throw new UsageError(
      `${join(dir, TASK_YAML)}: checks go in "checks" and the checks/ folder, not in "options"`,
    );
  }
  const checksDir = join(dir, "checks");
  const layer = taskLayer(
    {
      ...options,
      ...(doc.checks !== undefined ? { checks: doc.checks } : {}),
      ...(isFolder(checksDir) ? { checksDir: within(dir, checksDir, "checks/", where) } : {}),
    },
    join(dir, TASK_YAML),
    dir,
  );
  const project = join(dir, "project");
  const solution = join(dir, "solution");
  return {
    id,
    format: "azlon",
    source: where,
    prompt,
    tests,
    layer,
    from: isFolder(project) ? within(dir, project, "project/", where) : null,
    solution: isFolder(solution) ? { kind: "project", dir: within(dir, solution, "solution/", where) } : null,
  };
}
