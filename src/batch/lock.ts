import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import { acquireLock, describeHolder, LockBusyError } from "../workspace/lock.js";

export const LOCK_FILE = "batch.lock";

/**
 * One batch process per batch folder: a second `azlon batch` on the same --out refuses at
 * once. The lock is the run folder's and the server's (src/workspace/lock.ts): it names its
 * process, and one left by a process that is gone (kill -9, a reboot, a zombie, this process's
 * own number reused) is taken over at once.
 */
export function lockBatch(batchDir: string): () => void {
  const path = join(batchDir, LOCK_FILE);
  try {
    const held = acquireLock(path, { by: "azlon batch" });
    return () => held.release();
  } catch (error) {
    if (!(error instanceof LockBusyError)) throw error;
    throw new UsageError(
      `the batch in ${batchDir} is being run by ${describeHolder(error.holder)}`,
      error.state === "elsewhere"
        ? `if that host's batch is gone, remove ${path}`
        : "wait for it to end or stop it; two processes cannot drive one batch",
    );
  }
}
