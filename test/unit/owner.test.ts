import { describe, expect, it } from "vitest";
import { interruptExitCode } from "../../src/cli/io.js";
import {
  DEADLINE_MARGIN_MS,
  deadlineLabel,
  isOrphan,
  OTHER_HOST_GRACE_MS,
  ownerLabels,
  ownerState,
} from "../../src/sandbox/owner.js";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const HERE = "here";
const alive = (pid: number) => pid === 100;
const labels = (pid: number, host: string, deadline: number) => ({
  "azlon.run": "r",
  ...ownerLabels({ pid, host }),
  "azlon.deadline": new Date(deadline).toISOString(),
});

describe("who owns a container, and when it is an orphan", () => {
  it("the deadline is the run time limit plus the margin after creation", () => {
    expect(deadlineLabel(NOW, 5000)).toEqual({
      "azlon.deadline": new Date(NOW + 5000 + DEADLINE_MARGIN_MS).toISOString(),
    });
  });

  it("an owner on this host is asked; one elsewhere or unrecorded is unknown", () => {
    expect(ownerState(labels(100, HERE, NOW), HERE, alive)).toBe("alive");
    expect(ownerState(labels(200, HERE, NOW), HERE, alive)).toBe("gone");
    expect(ownerState(labels(100, "elsewhere", NOW), HERE, alive)).toBe("unknown");
    expect(ownerState({ "azlon.run": "r" }, HERE, alive)).toBe("unknown");
  });

  it("a gone owner's container is an orphan once its deadline has passed, not before", () => {
    expect(isOrphan(labels(200, HERE, NOW - 1), NOW, HERE, alive)).toBe(true);
    expect(isOrphan(labels(200, HERE, NOW + 1), NOW, HERE, alive)).toBe(false);
  });

  it("a live owner's container never is, whatever its deadline", () => {
    expect(isOrphan(labels(100, HERE, NOW - 86_400_000), NOW, HERE, alive)).toBe(false);
  });

  it("another host's owner gets the grace period for clock differences", () => {
    expect(isOrphan(labels(100, "elsewhere", NOW - 1), NOW, HERE, alive)).toBe(false);
    expect(isOrphan(labels(100, "elsewhere", NOW - OTHER_HOST_GRACE_MS - 1), NOW, HERE, alive)).toBe(true);
  });

  it("a container without a deadline (azlon 0.1) or with a bad one is left alone", () => {
    expect(isOrphan({ "azlon.run": "r" }, NOW, HERE, alive)).toBe(false);
    expect(isOrphan({ ...labels(200, HERE, NOW), "azlon.deadline": "soon" }, NOW, HERE, alive)).toBe(false);
  });
});

describe("exit codes of interrupts", () => {
  it("are 128 + the signal's number", () => {
    expect(interruptExitCode("SIGINT")).toBe(130);
    expect(interruptExitCode("SIGTERM")).toBe(143);
    expect(interruptExitCode("SIGHUP")).toBe(129);
    expect(interruptExitCode("SIGPIPE")).toBe(141);
  });
});
