import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EndpointError, ModelReplyError, UsageError } from "../../src/core/errors.js";
import { errorResult, resultJsonSchema, resultOf } from "../../src/engine/result.js";
import { ROOT } from "../helpers/cli.js";
import { freshState } from "../helpers/fakes.js";
import { expectValidResult } from "../helpers/schema.js";

describe("the --json result and its published schema", () => {
  it("schemas/result.schema.json is generated from the zod schema (npm run schema)", () => {
    const published = JSON.parse(readFileSync(join(ROOT, "schemas/result.schema.json"), "utf8"));
    expect(published).toEqual(resultJsonSchema());
  });

  it("a passed run with checks validates, with whole milliseconds and the checks' counts", () => {
    const state = freshState({
      checks: { commands: ["true", "false"], dir: null, hide: false, timeoutMs: 1000 },
    });
    Object.assign(state, { status: "passed", stopReason: "passed", elapsedMs: 1234.567, image: "azlon/x" });
    const result = resultOf({
      state,
      runDir: "/runs/x",
      error: null,
      verdict: {
        passed: true,
        reason: "ok",
        evidence: ["hello"],
        dockerfile: null,
        files: null,
        delete: null,
        accepted: true,
        rejections: [],
      },
      checks: {
        service: null,
        results: [
          {
            command: "true",
            exitCode: 0,
            timedOut: false,
            passed: true,
            problem: null,
            output: { text: "", totalBytes: 0, truncated: false },
            durationMs: 12.7,
          },
        ],
      },
    });
    expectValidResult(result);
    expect(result).toMatchObject({
      schemaVersion: 1,
      verdict: "both",
      durationMs: 1235,
      evidence: ["hello"],
      checks: { total: 2, passed: 1, failed: 1 },
      errorCategory: null,
    });
  });

  it("evidence only when the pass was accepted: a failed run's quotes are rejectedEvidence", () => {
    const verdict = {
      reason: "x",
      evidence: ["==", "F"],
      dockerfile: null,
      files: null,
      delete: null,
      rejections: [],
    };
    const failed = freshState({});
    Object.assign(failed, { status: "failed", stopReason: "max-iterations" });
    const report = { state: failed, runDir: "/runs/x", error: null, checks: null };
    for (const claimed of [
      { ...verdict, passed: false, accepted: false },
      // A claimed pass azlon did not accept (its quotes were not in the output).
      { ...verdict, passed: true, accepted: false },
    ]) {
      const result = resultOf({ ...report, verdict: claimed });
      expectValidResult(result);
      expect(result).toMatchObject({ status: "failed", evidence: [], rejectedEvidence: ["==", "F"] });
    }
    const passed = freshState({});
    Object.assign(passed, { status: "passed", stopReason: "passed" });
    const proven = resultOf({
      ...report,
      state: passed,
      verdict: { ...verdict, passed: true, accepted: true },
    });
    expect(proven).toMatchObject({ evidence: ["==", "F"], rejectedEvidence: [] });
    expect(errorResult("x", null)).toMatchObject({ evidence: [], rejectedEvidence: [] });
  });

  it("errors carry their category", () => {
    for (const [error, category] of [
      [new UsageError("x"), "usage"],
      [new EndpointError("x"), "environment"],
      [new ModelReplyError("x"), "model"],
      [new TypeError("x"), "internal"],
    ] as const) {
      const result = errorResult("x", error);
      expectValidResult(result);
      expect(result.errorCategory).toBe(category);
    }
  });

  it("the schema rejects what is not a result", () => {
    expect(() => expectValidResult({ status: "passed" })).toThrow();
  });
});
