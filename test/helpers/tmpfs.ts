import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "vitest";

/**
 * A real small file system that fills up: a tmpfs of a fixed size. Mounting needs root (the
 * CI runs as root); a full tmpfs fails writes with ENOSPC, after a short write when a write
 * only partly fits, as a full disk does. (RLIMIT_FSIZE would give EFBIG and a signal per
 * process instead, which is not what a full disk does.)
 */
export interface SmallDisk {
  dir: string;
  /** Fills the disk until only about `leaveBytes` are free. */
  fill(leaveBytes: number): void;
  /** Frees what fill() took. */
  free(): void;
}

const mounted: string[] = [];
afterEach(() => {
  for (const dir of mounted.splice(0)) unmount(dir);
});

function unmount(dir: string): void {
  try {
    execFileSync("umount", [dir], { stdio: "ignore" });
  } catch {
    execFileSync("umount", ["-l", dir], { stdio: "ignore" });
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Mounts a tmpfs of `sizeBytes`, unmounted after the test. */
export function smallDisk(sizeBytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), "azlon-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  mounted.push(dir);
  const filler = join(dir, "filler");
  return {
    dir,
    fill(leaveBytes) {
      const { bavail, bsize } = statfsSync(dir);
      writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - leaveBytes)));
    },
    free() {
      rmSync(filler, { force: true });
    },
  };
}

function mountProblem(): string | null {
  try {
    const { dir } = smallDisk(64 * 1024);
    mounted.splice(mounted.indexOf(dir), 1);
    unmount(dir);
    return null;
  } catch (error) {
    return `cannot mount a tmpfs to fill up (needs root): ${(error as Error).message.split("\n")[0]}`;
  }
}

const problem = mountProblem();
const inCI = !!process.env.CI && process.env.CI !== "false";

/** A describe block that needs a disk it can fill: fails in CI without one, skips loudly elsewhere. */
export function describeSmallDisk(name: string, body: () => void): void {
  if (!problem) {
    describe(name, body);
  } else if (inCI) {
    describe(name, () => {
      it("needs a tmpfs mount (root)", () => {
        throw new Error(problem);
      });
    });
  } else {
    console.warn(`\n*** SKIPPED "${name}": ${problem}\n`);
    describe.skip(name, body);
  }
}
