import { dirname } from "node:path";
import { UsageError } from "../../core/errors.js";
import { type BatchTask, checkId, requireText, taskLayer, within } from "../task.js";
import { existingFolder } from "./folders.js";

/** The keys of a task line; anything else is a mistake worth naming. */
const KEYS = ["id", "prompt", "tests", "checks", "checksDir", "from", "options", "solution"] as const;

/**
 * The tasks of a .jsonl file, one JSON object a line: {"id", "prompt", "tests", "checks"?,
 * "checksDir"?, "from"?, "options"?, "solution"?}, paths relative to the file. Blank lines are
 * skipped; every mistake names its line.
 */
export function parseJsonl(text: string, file: string): BatchTask[] {
  const base = dirname(file);
  const tasks: BatchTask[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    const where = `${file} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(
        `${where}: not a JSON object (${(error as Error).message})`,
        "each line of a .jsonl file is one task, a JSON object on one line",
      );
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new UsageError(
        `${where}: a task is a JSON object`,
        'e.g. {"id": "hello", "prompt": "...", "tests": "..."}',
      );
    }
    tasks.push(taskOfLine(value as Record<string, unknown>, where, base));
  });
  return tasks;
}

function taskOfLine(line: Record<string, unknown>, where: string, base: string): BatchTask {
  const unknown = Object.keys(line).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length) {
    throw new UsageError(
      `${where}: unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")}`,
      `a task line takes ${KEYS.join(", ")}; run options go in "options"`,
    );
  }
  const id = checkId(line.id, where);
  const fix = 'each line needs "prompt" (what to build) and "tests" (how to tell that it works)';
  const prompt = requireText(line.prompt, "prompt", where, fix);
  const tests = requireText(line.tests, "tests", where, fix);
  const options = line.options ?? {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new UsageError(`${where}: "options" must be an object of run options`);
  }
  for (const key of ["checks", "checksDir"] as const) {
    if (line[key] !== undefined && key in options) {
      throw new UsageError(`${where}: "${key}" is given twice, in the task and in its options`, "keep one");
    }
  }
  const layer = taskLayer(
    {
      ...options,
      ...(line.checks !== undefined ? { checks: line.checks } : {}),
      ...(line.checksDir !== undefined ? { checksDir: line.checksDir } : {}),
    },
    where,
    base,
  );
  if (layer.checksDir) existingFolder(layer.checksDir, `${where}: "checksDir"`);
  return {
    id,
    format: "jsonl",
    source: where,
    prompt,
    tests,
    layer,
    from: pathKey(line.from, "from", where, base),
    solution: (() => {
      const dir = pathKey(line.solution, "solution", where, base);
      return dir ? { kind: "project", dir } : null;
    })(),
  };
}

function pathKey(value: unknown, key: string, where: string, base: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value === "") {
    throw new UsageError(`${where}: "${key}" must be a folder path`);
  }
  return existingFolder(within(base, value, `"${key}"`, where), `${where}: "${key}"`);
}
