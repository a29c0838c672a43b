import { describe, expect, it } from "vitest";
import { batchJunit, summaryMarkdown } from "../../src/batch/report.js";
import type { BatchFile } from "../../src/batch/schema.js";
import { taskStatus, totalsOf } from "../../src/batch/summary.js";
import type { Result } from "../../src/engine/result.js";
import { errorResult } from "../../src/engine/result.js";

function result(status: Result["status"], extra: Partial<Result> = {}): Result {
  return {
    ...errorResult("", null),
    status,
    stopReason:
      status === "passed"
        ? "passed"
        : status === "failed"
          ? "max-iterations"
          : status === "interrupted"
            ? "interrupted"
            : "error",
    errorCategory: status === "error" ? "model" : null,
    iterations: 2,
    usage: { promptTokens: 100, completionTokens: 50, cachedTokens: 0 },
    costUsd: 0.01,
    durationMs: 1000,
    ...extra,
  };
}

function file(tasks: Array<[string, Array<Result | null>]>, attempts = 1): BatchFile {
  const list = tasks.map(([id, results]) => ({
    id,
    format: "jsonl" as const,
    source: `t.jsonl line 1`,
    status: taskStatus(results),
    attempts: results.map((r, i) => ({ attempt: i + 1, dir: `runs/${id}/${i + 1}`, result: r })),
  }));
  return {
    schemaVersion: 1,
    batchId: "b",
    source: "/t.jsonl",
    mergedFrom: null,
    createdAt: "",
    updatedAt: "",
    status: "finished",
    stopReason: null,
    options: {
      attempts,
      concurrency: 1,
      shard: null,
      oracle: false,
      model: "m",
      maxCostUsd: null,
      maxTimeMs: null,
    },
    elapsedMs: 5000,
    tasks: list,
    totals: totalsOf(list, attempts, 5000),
  };
}

describe("a task's status and the totals", () => {
  it("a task passed when one attempt passed; else failed, error, interrupted, pending in that order", () => {
    expect(taskStatus([result("failed"), result("passed")])).toBe("passed");
    expect(taskStatus([result("error"), result("failed")])).toBe("failed");
    expect(taskStatus([result("interrupted"), result("error")])).toBe("error");
    expect(taskStatus([null, result("interrupted")])).toBe("interrupted");
    expect(taskStatus([null])).toBe("pending");
  });

  it("pass@1 and pass@k over finished attempts; tokens and cost summed; an unknown cost makes the sum unknown", () => {
    const f = file(
      [
        ["a", [result("passed"), result("failed"), result("failed")]],
        ["b", [result("failed"), result("failed"), result("failed")]],
        ["c", [result("passed"), result("interrupted"), null]],
      ],
      3,
    );
    // a: 1/3, b: 0, c: 1/1 (the interrupted attempt has not finished).
    expect(f.totals.passAt1).toBeCloseTo((1 / 3 + 0 + 1) / 3, 12);
    expect(f.totals.passAtK).toBeCloseTo((1 + 0 + 1) / 3, 12);
    expect(f.totals).toMatchObject({
      tasks: 3,
      passed: 2,
      failed: 1,
      error: 0,
      tokens: 8 * 150,
      durationMs: 5000,
    });
    expect(f.totals.costUsd).toBeCloseTo(0.08, 9);
    const unknown = file([["a", [result("passed", { costUsd: null })]]]);
    expect(unknown.totals.costUsd).toBeNull();
  });

  it("an environment error is not the task's outcome: it does not count against pass@1", () => {
    const f = file([
      ["a", [result("error", { errorCategory: "environment" })]],
      ["b", [result("passed")]],
    ]);
    expect(f.totals.passAt1).toBe(1);
  });
});

describe("JUnit and the summary", () => {
  it("JUnit has a testcase per task attempt: failures, errors and interrupted ones skipped", () => {
    const xml = batchJunit(
      file([
        ["ok", [result("passed")]],
        ["bad", [result("failed", { reason: "not passed after 1 iteration" })]],
        ["broke", [result("error", { reason: "the model refused" })]],
        ["stopped", [result("interrupted")]],
        ["never", [null]],
      ]),
    );
    expect(xml).toContain('tests="5" failures="1" errors="1" skipped="2"');
    expect(xml).toContain('<testcase classname="azlon.batch" name="ok (attempt 1)"');
    expect(xml).toContain('<failure message="not passed after 1 iteration"/>');
    expect(xml).toContain('<error message="the model refused"/>');
    expect(xml.match(/<testcase /g)).toHaveLength(5);
  });

  it("a model's reason is inert in the step summary: no HTML, no links, no table break", () => {
    const md = summaryMarkdown(
      file([
        ["a", [result("failed", { reason: "x | <img src=x onerror=alert(1)> [click](http://evil) `code`" })]],
      ]),
      "/b",
    );
    const row = md.split("\n").find((l) => l.startsWith("| a |")) ?? "";
    expect(row).not.toContain("<img");
    expect(row).toContain("&lt;img");
    expect(row).toContain("\\[click\\](http\\://evil)");
    expect(row).toContain("x \\| ");
    expect(md).toContain("### azlon batch: 0 of 1 task passed");
  });
});
