import { readFileSync, statSync } from "node:fs";
import { UsageError } from "../../core/errors.js";
import { fileErrorCause } from "../../util/file-errors.js";

/** A folder a task names, which must be there; the error says which task named it. */
export function existingFolder(dir: string, what: string): string {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (error) {
    throw new UsageError(`${what} ${dir} cannot be read: ${fileErrorCause(error)}`, "check the path");
  }
  if (!isDir) throw new UsageError(`${what} ${dir} is not a folder`, "name a folder");
  return dir;
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A task's file as text; a file that is there but cannot be read is the task's mistake. */
export function readTaskFile(path: string, where: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `${where}: cannot read ${path}: ${fileErrorCause(error)}`,
      "check the file's permissions",
    );
  }
}
