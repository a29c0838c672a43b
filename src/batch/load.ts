import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { UsageError } from "../core/errors.js";
import { fileErrorCause } from "../util/file-errors.js";
import { BATCH_FILE } from "./folder.js";
import { parseAzlonFolder, TASK_YAML } from "./formats/azlon.js";
import { isFile, readTaskFile } from "./formats/folders.js";
import { INSTRUCTION, parseHarborFolder, TASK_TOML } from "./formats/harbor.js";
import { parseJsonl } from "./formats/jsonl.js";
import { type BatchTask, checkUnique } from "./task.js";

/** Which kind of task folder this is, or null when it is none. */
export function taskFolderKind(dir: string): "azlon" | "harbor" | null {
  const azlon = isFile(join(dir, TASK_YAML));
  const harbor = isFile(join(dir, TASK_TOML)) || isFile(join(dir, INSTRUCTION));
  if (azlon && harbor) {
    throw new UsageError(
      `${dir} holds both ${TASK_YAML} (azlon's task) and ${TASK_TOML}/${INSTRUCTION} (Harbor's)`,
      "keep one format per task folder",
    );
  }
  return azlon ? "azlon" : harbor ? "harbor" : null;
}

async function parseFolder(dir: string, kind: "azlon" | "harbor"): Promise<BatchTask> {
  return kind === "azlon" ? parseAzlonFolder(dir) : parseHarborFolder(dir);
}

/** azlon's own output beside the tasks (a batch run from the tasks' folder writes there by default). */
function isOutput(dir: string): boolean {
  const name = basename(dir);
  return name === "azlon-batches" || name === "azlon-runs" || isFile(join(dir, BATCH_FILE));
}

/**
 * The tasks at a path: a .jsonl file, one task folder (azlon's or Harbor's), or a folder of
 * task folders (names starting with "." or "_" are not tasks, nor are azlon's own batch and run
 * folders). Every mistake is a usage error
 * naming the line or folder, before anything runs.
 */
export async function loadTasks(path: string): Promise<BatchTask[]> {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new UsageError(
      `cannot read the tasks at ${path}: ${fileErrorCause(error)}`,
      "name a .jsonl file or a folder of tasks",
    );
  }
  let tasks: BatchTask[];
  if (stat.isFile()) {
    tasks = parseJsonl(readTaskFile(path, path), path);
  } else {
    const kind = taskFolderKind(path);
    if (kind) {
      tasks = [await parseFolder(path, kind)];
    } else {
      tasks = [];
      const names = readdirSync(path, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith(".") && !e.name.startsWith("_"))
        .filter((e) => !isOutput(join(path, e.name)))
        .map((e) => e.name)
        .sort();
      for (const name of names) {
        const dir = join(path, name);
        const inner = taskFolderKind(dir);
        if (!inner) {
          throw new UsageError(
            `${dir} is not a task folder: it has no ${TASK_YAML} (azlon's) and no ${TASK_TOML} or ${INSTRUCTION} (Harbor's)`,
            `move it out of ${basename(path)}/, or name it with a leading "_" to leave it out`,
          );
        }
        tasks.push(await parseFolder(dir, inner));
      }
    }
  }
  if (tasks.length === 0) {
    throw new UsageError(
      `no tasks in ${path}`,
      "a .jsonl file needs a task a line; a folder needs task folders",
    );
  }
  checkUnique(tasks);
  return tasks;
}
