import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { currentProcess, processStart } from "../../src/util/liveness.js";
import { acquireLock, LockBusyError, type LockHolder, readLock } from "../../src/workspace/lock.js";
import { deadPid } from "../helpers/owners.js";
import { tempDir } from "../helpers/tmp.js";
import { liveProcess, zombie } from "../helpers/zombie.js";

let gone: number | undefined;

function record(fields: Partial<LockHolder>): LockHolder {
  gone ??= deadPid();
  return {
    pid: gone,
    host: hostname(),
    start: null,
    since: "2026-11-25T10:00:00.000Z",
    by: "azlon resume",
    token: `t-${Math.random()}`,
    ...fields,
  };
}

/** A lock file as a process that is gone would have left it. */
function leftBy(holder: LockHolder): string {
  const path = join(tempDir(), "run.lock");
  writeFileSync(path, `${JSON.stringify(holder)}\n`);
  return path;
}

function busy(fn: () => unknown): LockBusyError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LockBusyError) return error;
    throw error;
  }
  throw new Error("the lock was taken");
}

describe.runIf(process.platform === "linux")("the lock of a run folder or a server's --out", () => {
  it("is held by one at a time, names its holder, and is free again once released", () => {
    const path = join(tempDir(), "run.lock");
    const lock = acquireLock(path, { by: "azlon resume" });
    expect(readLock(path)).toMatchObject({ ...currentProcess(), by: "azlon resume" });
    // A second taker, even in this same process, is refused, and told who holds it since when.
    const error = busy(() => acquireLock(path, { by: "azlon serve" }));
    expect(error.holder).toEqual(lock.holder);
    expect(error.message).toContain(`azlon resume (process ${process.pid}, since `);
    lock.release();
    expect(existsSync(path)).toBe(false);
    acquireLock(path, { by: "azlon serve" }).release();
    // Nothing is left beside it: no temporary files, no guards.
    expect(readdirSync(join(path, ".."))).toEqual([]);
  });

  it("left by a process that is gone (kill -9), is taken at once", () => {
    const path = leftBy(record({}));
    const started = Date.now();
    const lock = acquireLock(path, { by: "azlon resume" });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(readLock(path)?.token).toBe(lock.holder.token);
  });

  it("left by a zombie, or by a process whose number was given to another since, is taken", async () => {
    const pid = await zombie();
    acquireLock(leftBy(record({ pid, start: processStart(pid) })), { by: "azlon serve" });
    const live = liveProcess();
    const reused = record({ pid: live, start: `${processStart(live)}0` });
    acquireLock(leftBy(reused), { by: "azlon serve" });
    // That same process, with its own start time, keeps it.
    const held = record({ pid: live, start: processStart(live) });
    expect(busy(() => acquireLock(leftBy(held), { by: "azlon serve" })).state).toBe("alive");
  });

  it("--force takes it from a holder azlon cannot check (another host, no start time), never from a proved live azlon", () => {
    const remote = leftBy(record({ pid: 4242, host: "elsewhere.example" }));
    const error = busy(() => acquireLock(remote, { by: "azlon resume" }));
    expect(error).toMatchObject({ state: "elsewhere", forceable: true });
    expect(error.message).toContain("(process 4242 on elsewhere.example, since 2026-11-25T10:00:00Z)");
    acquireLock(remote, { by: "azlon resume", force: true });

    const live = liveProcess();
    const unproved = leftBy(record({ pid: live, start: null }));
    expect(busy(() => acquireLock(unproved, { by: "azlon resume" })).forceable).toBe(true);
    acquireLock(unproved, { by: "azlon resume", force: true });

    const proved = leftBy(record({ pid: live, start: processStart(live) }));
    expect(busy(() => acquireLock(proved, { by: "azlon resume", force: true })).forceable).toBe(false);
  });

  it("two processes racing for a dead holder's lock: the one that comes second finds the winner's lock and leaves it", () => {
    const path = leftBy(record({}));
    let winner: ReturnType<typeof acquireLock> | null = null;
    // The first has read the dead record and is about to remove it, when the second takes the
    // lock whole (removes the dead record, writes its own).
    const error = busy(() =>
      acquireLock(path, {
        by: "first",
        beforeTakeover: () => {
          winner ??= acquireLock(path, { by: "second" });
        },
      }),
    );
    expect(winner).not.toBeNull();
    expect(error.holder.by).toBe("second");
    expect(readLock(path)?.by).toBe("second");
  });

  it("a taker killed in the middle of a takeover (its guard left behind) blocks nobody", () => {
    const dead = record({});
    const path = leftBy(dead);
    const raw = readFileSync(path, "utf8");
    const guard = `${path}.${createHash("sha256").update(raw).digest("hex").slice(0, 16)}.takeover`;
    writeFileSync(guard, JSON.stringify(record({})));
    const lock = acquireLock(path, { by: "azlon resume" });
    expect(readLock(path)?.token).toBe(lock.holder.token);
  });

  it("a record that cannot be read is waited for while it may be being written, then taken", () => {
    const path = join(tempDir(), "run.lock");
    writeFileSync(path, "");
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    acquireLock(path, { by: "azlon resume" });
  });

  it("release leaves a lock that is no longer its own (taken with --force) alone", () => {
    const path = join(tempDir(), "run.lock");
    const lock = acquireLock(path, { by: "azlon resume" });
    writeFileSync(path, JSON.stringify(record({ host: "elsewhere.example" })));
    lock.release();
    expect(readLock(path)?.host).toBe("elsewhere.example");
  });
});
