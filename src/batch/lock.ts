import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import { processAlive } from "../sandbox/owner.js";

export const LOCK_FILE = "batch.lock";

/**
 * One batch process per batch folder: a second `azlon batch` on the same --out refuses at
 * once. The lock names its process; one left by a process that is gone (kill -9, a reboot, or
 * this process's own number reused in a new container) is taken over.
 */
export function lockBatch(batchDir: string): () => void {
  const path = join(batchDir, LOCK_FILE);
  const mine = `${JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() })}\n`;
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(path, "wx");
      try {
        writeSync(fd, mine);
      } finally {
        closeSync(fd);
      }
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner: { pid?: unknown; host?: unknown } = {};
    try {
      owner = JSON.parse(readFileSync(path, "utf8"));
    } catch {
      // Torn or empty: its writer died while writing it.
    }
    const pid = typeof owner.pid === "number" ? owner.pid : null;
    const here = owner.host === hostname();
    if (pid !== null && (!here || (pid !== process.pid && processAlive(pid)))) {
      throw new UsageError(
        `the batch in ${batchDir} is being run by process ${pid}${here ? "" : ` on ${String(owner.host)}`}`,
        here
          ? "wait for it to end or stop it; two processes cannot drive one batch"
          : `if that host's batch is gone, remove ${path}`,
      );
    }
    rmSync(path, { force: true });
  }
  throw new UsageError(`cannot lock the batch in ${batchDir}: another process keeps taking it`);
}
