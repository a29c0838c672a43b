import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * A process as azlon records it (on a leg, a container, a lock): its number, its host, and
 * when it started, so that a number the system gave to another process since is told apart.
 */
export interface ProcessRef {
  pid: number;
  host: string;
  /** Boot id and start time from /proc (Linux); null where they cannot be read. */
  start?: string | null;
}

/** /proc/<pid>/stat's state letter and start time; null when there is no such process. */
function procStat(pid: number): { state: string; startTicks: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so count from the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTicks = fields[19]; // field 22, starttime
  return state && startTicks ? { state, startTicks } : null;
}

let procReadable: boolean | undefined;
let bootId: string | undefined;

/** Whether this system shows processes in /proc (Linux): only there can a start time be read. */
export function canTellStartTimes(): boolean {
  procReadable ??= procStat(process.pid) !== null;
  return procReadable;
}

function currentBootId(): string {
  if (bootId === undefined) {
    try {
      bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      bootId = "";
    }
  }
  return bootId;
}

/**
 * When the process started, as a string to compare: the boot id (start times count from boot)
 * and the start time in clock ticks. Null where /proc cannot tell (macOS, Windows).
 */
export function processStart(pid: number): string | null {
  if (!canTellStartTimes()) return null;
  const stat = procStat(pid);
  return stat ? `${currentBootId()}:${stat.startTicks}` : null;
}

let self: ProcessRef | undefined;

/** This process, as a record names it. */
export function currentProcess(): ProcessRef {
  self ??= { pid: process.pid, host: hostname(), start: processStart(process.pid) };
  return { ...self };
}

/** kill(pid, 0): true for any process of that number, a zombie or another user's (EPERM) included. */
function signalReaches(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether the process a record names runs on this host now. A zombie (killed, not yet reaped
 * by its parent) has ended: kill(pid, 0) still reaches it, /proc says "Z". A process that
 * got the number since is told by its start time, when the record has one. Where there is no
 * /proc, only kill(pid, 0) can be asked: a zombie or a reused number then counts as alive.
 */
export function processAlive(pid: number, start?: string | null): boolean {
  // 0 and negative numbers name process groups to kill(): never a process of a record.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (canTellStartTimes()) {
    const stat = procStat(pid);
    if (stat) {
      if (stat.state === "Z" || stat.state === "X" || stat.state === "x") return false;
      return !start || start === `${currentBootId()}:${stat.startTicks}`;
    }
    // Not in /proc: gone, unless /proc hides other users' processes (hidepid), where the
    // signal still reaches them.
  }
  return signalReaches(pid);
}

/**
 * "alive" or "gone" for a process on this host; "elsewhere" for one on another host, which
 * cannot be asked (a run folder on a shared disk).
 */
export function processState(
  ref: ProcessRef,
  here: string = hostname(),
  alive: (pid: number, start?: string | null) => boolean = processAlive,
): "alive" | "gone" | "elsewhere" {
  if (ref.host !== here) return "elsewhere";
  return alive(ref.pid, ref.start ?? null) ? "alive" : "gone";
}

/** Whether a live-looking record is that very process: its start time was recorded and matches. */
export function identityChecked(ref: ProcessRef): boolean {
  return !!ref.start && canTellStartTimes();
}
