import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { ownerLabels, ownerState } from "../../src/sandbox/owner.js";
import { currentProcess, processAlive, processStart, processState } from "../../src/util/liveness.js";
import { deadPid } from "../helpers/owners.js";
import { liveProcess, procState, zombie } from "../helpers/zombie.js";

// /proc is where a zombie and a process's start time show; elsewhere azlon can only ask kill(pid, 0).
describe.runIf(process.platform === "linux")("whether a recorded process is alive", () => {
  it("a zombie (killed, not reaped by its parent) is not, though kill(pid, 0) still reaches it", async () => {
    const pid = await zombie();
    expect(procState(pid)).toBe("Z");
    expect(() => process.kill(pid, 0)).not.toThrow(); // the trap
    expect(processAlive(pid)).toBe(false);
    expect(ownerState(ownerLabels({ pid, host: hostname() }))).toBe("gone");
  });

  it("a number the system gave to another process since (the start time differs) is not", () => {
    const pid = liveProcess();
    const start = processStart(pid);
    expect(start).toMatch(/^[\w-]+:\d+$/);
    expect(processAlive(pid, start)).toBe(true);
    expect(processAlive(pid, `${start}0`)).toBe(false);
    // The same on a container's labels.
    const reused = ownerLabels({ pid, host: hostname(), start: "another-boot:12345" });
    expect(ownerState(reused)).toBe("gone");
    expect(ownerState(ownerLabels({ pid, host: hostname(), start }))).toBe("alive");
  });

  it("this process is, with its own start time; an ended one is not; numbers that name process groups never are", () => {
    const self = currentProcess();
    expect(self.pid).toBe(process.pid);
    expect(processAlive(self.pid, self.start)).toBe(true);
    expect(processAlive(deadPid())).toBe(false);
    for (const pid of [0, -1, 1.5]) expect(processAlive(pid)).toBe(false);
  });

  it("a process on another host cannot be asked", () => {
    expect(processState({ pid: process.pid, host: "elsewhere.example" })).toBe("elsewhere");
    expect(processState({ ...currentProcess() })).toBe("alive");
  });
});
