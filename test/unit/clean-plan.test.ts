import { describe, expect, it } from "vitest";
import { type CleanInput, planClean } from "../../src/cli/clean-plan.js";
import type { LabelledContainer, LabelledImage } from "../../src/sandbox/orphans.js";
import { formatAge, parseAge } from "../../src/util/age.js";
import { type RunEntry, shownStatus } from "../../src/workspace/run-list.js";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const DAY = 86_400_000;
const HERE = "here";
const LIVE_PID = 100;
const DEAD_PID = 200;

function folder(runId: string, fields: Partial<RunEntry> = {}): RunEntry {
  return {
    dir: `/out/${runId}`,
    runId,
    status: "passed",
    stopReason: "passed",
    iterations: 1,
    costUsd: null,
    image: `azlon/${runId}`,
    queued: false,
    createdAt: new Date(NOW - DAY).toISOString(),
    updatedAt: new Date(NOW - DAY).toISOString(),
    owner: { pid: DEAD_PID, host: HERE },
    locked: false,
    ...fields,
  };
}

function image(runId: string, labels: Record<string, string> = {}): LabelledImage {
  return {
    id: `sha256:${runId}`,
    runId,
    tags: [`azlon/${runId}:latest`],
    bytes: 1000,
    createdMs: NOW - DAY,
    labels: { "azlon.run": runId, ...labels },
  };
}

function container(runId: string, labels: Record<string, string> = {}, state = "running"): LabelledContainer {
  return { id: `c-${runId}`, runId, state, createdMs: NOW - DAY, labels: { "azlon.run": runId, ...labels } };
}

const owned = (pid: number, host = HERE, deadline = NOW - 1000) => ({
  "azlon.owner.pid": String(pid),
  "azlon.owner.host": host,
  "azlon.deadline": new Date(deadline).toISOString(),
});

function plan(input: Partial<CleanInput>) {
  return planClean({
    folders: [],
    containers: [],
    images: [],
    scope: "folders",
    olderThanMs: null,
    now: NOW,
    here: HERE,
    alive: (pid) => pid === LIVE_PID,
    ...input,
  });
}

describe("what `azlon clean` removes", () => {
  it("by default, the things of the runs under --out only", () => {
    const p = plan({ folders: [folder("a")], images: [image("a"), image("other")] });
    expect(p.runs.map((r) => r.runId)).toEqual(["a"]);
    expect(p.runs[0]?.images.map((i) => i.runId)).toEqual(["a"]);
  });

  it("with --all, every run the engine has things of", () => {
    const p = plan({ scope: "all", folders: [folder("a")], images: [image("a"), image("other")] });
    expect(p.runs.map((r) => r.runId)).toEqual(["a", "other"]);
  });

  it("with --all, never the images of a run of no folder here active within the hour: it may be building elsewhere", () => {
    const young = { ...image("building-elsewhere"), createdMs: NOW - 5 * 60_000 };
    const p = plan({ scope: "all", folders: [], images: [young, image("other")] });
    expect(p.runs.map((r) => r.runId)).toEqual(["other"]);
    expect(p.kept).toEqual([
      {
        runId: "building-elsewhere",
        why: "no run folder here, and active 5 min ago: it may be going on from another folder (--older-than 0 removes it too)",
      },
    ]);
    // The user's own bound decides instead.
    const bounded = plan({ scope: "all", folders: [], images: [young], olderThanMs: 0 });
    expect(bounded.runs.map((r) => r.runId)).toEqual(["building-elsewhere"]);
  });

  it("--older-than goes by when the run was last active", () => {
    const p = plan({
      folders: [folder("old"), folder("new", { updatedAt: new Date(NOW - 3_600_000).toISOString() })],
      images: [image("old"), image("new")],
      olderThanMs: 12 * 3_600_000,
    });
    expect(p.runs.map((r) => r.runId)).toEqual(["old"]);
  });

  it("never a run going on: by its run.json, its container's owner, or its image's", () => {
    const p = plan({
      scope: "all",
      folders: [folder("running", { status: "running", owner: { pid: LIVE_PID, host: HERE } })],
      containers: [container("running"), container("owned", owned(LIVE_PID))],
      images: [image("running"), image("building", owned(LIVE_PID))],
    });
    expect(p.runs).toEqual([]);
    expect(p.kept).toEqual([
      { runId: "building", why: `being built by process ${LIVE_PID}` },
      { runId: "owned", why: `in use by process ${LIVE_PID}` },
      { runId: "running", why: `still running (process ${LIVE_PID})` },
    ]);
  });

  it("never a run going on at another host, between rounds (no container): this host cannot ask its process", () => {
    const p = plan({
      folders: [
        // The process number means nothing here: on this host it names no process.
        folder("remote", { status: "running", owner: { pid: DEAD_PID, host: "there" } }),
        folder("remote-locked", { status: "failed", owner: { pid: DEAD_PID, host: "there" }, locked: true }),
      ],
      images: [image("remote"), image("remote-locked")],
    });
    expect(p.runs).toEqual([]);
    expect(p.kept).toEqual([
      { runId: "remote", why: `still running (process ${DEAD_PID} on there)` },
      { runId: "remote-locked", why: `still running (process ${DEAD_PID} on there)` },
    ]);
  });

  it("a run whose lock a live process holds is going on, whatever run.json says (a resume just begun); one whose lock's holder is gone is over", () => {
    const p = plan({
      folders: [
        folder("resuming", { status: "failed", owner: { pid: LIVE_PID, host: HERE }, locked: true }),
        folder("killed", { status: "running", owner: { pid: DEAD_PID, host: HERE }, locked: true }),
      ],
      images: [image("resuming"), image("killed")],
    });
    expect(p.runs.map((r) => r.runId)).toEqual(["killed"]);
    expect(p.kept).toEqual([{ runId: "resuming", why: `still running (process ${LIVE_PID})` }]);
  });

  it("a killed run's container goes; one owned on another host only after its deadline and the grace", () => {
    const p = plan({
      scope: "all",
      folders: [folder("killed", { status: "running" })],
      containers: [
        container("killed", owned(DEAD_PID)),
        container("remote-soon", owned(LIVE_PID, "there", NOW - 1000)),
        container("remote-long-ago", owned(LIVE_PID, "there", NOW - DAY)),
      ],
    });
    expect(p.runs.map((r) => r.runId)).toEqual(["killed", "remote-long-ago"]);
    expect(p.kept.map((k) => k.why)).toEqual([`in use by process ${LIVE_PID} on there`]);
  });

  it("a container without owner labels (azlon 0.1) goes when stopped or its run is over, not while it may run for a live one", () => {
    const p = plan({
      scope: "all",
      folders: [folder("over")],
      containers: [
        container("over"),
        container("stopped", {}, "exited"),
        container("unknown"), // running, and no run folder says whose
      ],
    });
    expect(p.runs.map((r) => r.runId)).toEqual(["over", "stopped"]);
    expect(p.kept.map((k) => k.runId)).toEqual(["unknown"]);
  });

  it("orphaned containers of runs out of scope go too, as every start removes them", () => {
    const p = plan({
      folders: [folder("a")],
      containers: [
        container("gone", owned(DEAD_PID)),
        container("not-yet", owned(DEAD_PID, HERE, NOW + 1000)),
      ],
    });
    expect(p.orphans.map((c) => c.runId)).toEqual(["gone"]);
  });
});

describe("ages", () => {
  it.each([
    ["7d", 7 * DAY],
    ["12h", 12 * 3_600_000],
    ["30m", 1_800_000],
    ["90s", 90_000],
    ["2w", 14 * DAY],
    ["3", 3 * DAY],
    ["1.5h", 5_400_000],
  ])("%s", (text, ms) => {
    expect(parseAge(text)).toBe(ms);
  });

  it("refuses what is not an age", () => {
    for (const text of ["", "d", "7 days", "-1d", "1y"]) expect(parseAge(text)).toBeNull();
  });

  it("shows roughly how long ago", () => {
    expect([5_000, 120_000, 5 * 3_600_000, 3 * DAY].map(formatAge)).toEqual(["5 s", "2 min", "5 h", "3 d"]);
  });
});

describe("the status shown", () => {
  it("a run that says running is killed when its process is gone, queued when a server holds it in its queue", () => {
    expect(shownStatus({ status: "running" }, false)).toBe("killed");
    expect(shownStatus({ status: "running", queued: true }, false)).toBe("queued");
    expect(shownStatus({ status: "running", queued: true }, true)).toBe("running");
    expect(shownStatus({ status: "passed", queued: false }, false)).toBe("passed");
    // Locked by a live process that has not yet written that it runs (a resume just begun).
    expect(shownStatus({ status: "failed" }, true)).toBe("running");
  });
});
