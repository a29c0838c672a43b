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
