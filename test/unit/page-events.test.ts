import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { changesText, phaseParts } from "../../src/web/phases.js";
// @ts-expect-error: the page's plain ES module has no type declarations
import { describeEvent, EVENT_TYPES } from "../../src/web/view.js";

describe("the page's events", () => {
  it("listens for every event type the journal has, and describes each", () => {
    const source = readFileSync(join(__dirname, "../../src/core/events.ts"), "utf8");
    const journal = [...source.matchAll(/type: "([a-z.]+)"/g)].map((m) => m[1]);
    expect(new Set(EVENT_TYPES)).toEqual(new Set(journal));
    for (const type of EVENT_TYPES as string[]) {
      expect(
        describeEvent({
          type,
          iteration: 2,
          from: 1,
          usage: {},
          results: [],
          written: [],
          deleted: [],
          refused: [],
        }),
      ).not.toBe(type);
    }
  });

  it("a failed build says why, in the builder's words", () => {
    expect(
      describeEvent({
        type: "build.finished",
        iteration: 1,
        ok: false,
        timedOut: false,
        durationMs: 52,
        image: null,
        cause: "unknown instruction: K=-",
      }),
    ).toBe("build failed after 52 ms: unknown instruction: K=-");
  });

  it("a round that changed only the Dockerfile wrote one file, in the progress log and the round's phases alike", () => {
    const changes = { written: [], deleted: [], refused: [], dockerfileChanged: true };
    expect(describeEvent({ type: "changes.applied", iteration: 2, ...changes, notes: [] })).toBe(
      "1 file written",
    );
    expect(phaseParts({ iteration: 2, changes })).toEqual(["1 file written"]);
    expect(changesText({ written: ["a", "b"], deleted: ["c"], refused: [{}], dockerfileChanged: true })).toBe(
      "3 files written, 1 deleted, 1 refused",
    );
  });

  it("a reused round says so", () => {
    expect(describeEvent({ type: "execute.reused", iteration: 3, from: 2 })).toBe(
      "round 3: nothing changed: round 2's result reused (not built or run again)",
    );
  });
});
