import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkEvidence } from "../../src/core/evidence.js";
import { boundList, cutEcho, nameList } from "../../src/util/echo.js";
import { normalizeChanges, type ReplyLimits } from "../../src/workspace/paths.js";
import { applyChanges } from "../../src/workspace/workspace.js";
import { tempDir } from "../helpers/tmp.js";

const limits: ReplyLimits = { maxFiles: 200, maxFileBytes: 1024, maxPathLength: 240 };
const HUGE = 2 * 2 ** 20;

describe("cutEcho and boundList", () => {
  it("keeps short text, and cuts long text saying how much was cut", () => {
    expect(cutEcho("app.py")).toBe("app.py");
    expect(cutEcho("x".repeat(200))).toBe("x".repeat(200));
    expect(cutEcho("x".repeat(HUGE))).toBe(`${"x".repeat(200)}… (${HUGE - 200} more characters)`);
    expect(cutEcho("abcdef", 3)).toBe("abc… (3 more characters)");
  });

  it("a text cut twice counts all that was cut", () => {
    const once = cutEcho("x".repeat(HUGE), 1000);
    expect(cutEcho(once)).toBe(`${"x".repeat(200)}… (${HUGE - 200} more characters)`);
  });

  it("never ends on half of a surrogate pair", () => {
    const cut = cutEcho(`${"a".repeat(199)}🙂🙂`);
    expect(cut).toBe(`${"a".repeat(199)}… (4 more characters)`);
    expect(Buffer.from(cut).toString()).toBe(cut);
  });

  it("lists the first items, then says how many more", () => {
    expect(boundList([1, 2, 3], (n) => -n, 5)).toEqual([1, 2, 3]);
    expect(boundList([1, 2, 3, 4, 5, 6], (n) => -n, 4)).toEqual([1, 2, 3, 4, -2]);
    expect(nameList(["a", "b", "c"], 2)).toBe("a, b and 1 more");
  });
});

describe("a reply's refusals are echoed bounded", () => {
  it("a 2 MiB path is refused with the first 200 characters and the count of the rest", () => {
    const path = `${"p".repeat(HUGE)}.py`;
    const result = normalizeChanges(
      { dockerfile: null, files: [{ path, content: "x" }], delete: [path] },
      limits,
    );
    expect(result.refused).toHaveLength(2);
    for (const r of result.refused) {
      expect(r.path).toBe(`${"p".repeat(200)}… (${path.length - 200} more characters)`);
      expect(r.reason).toContain("too long");
    }
  });

  it("5,000 refused paths become the first 20 and one entry counting the rest", async () => {
    const files = Array.from({ length: 5000 }, (_, i) => ({ path: `../escape-${i}.sh`, content: "x" }));
    const changes = normalizeChanges({ dockerfile: null, files, delete: null }, limits);
    const report = await applyChanges(join(tempDir(), "workspace"), changes);
    expect(report.refused).toHaveLength(21);
    expect(report.refused[0]).toEqual({ path: "../escape-0.sh", reason: "escapes the workspace" });
    expect(report.refused[20]).toEqual({
      path: "(4980 more)",
      reason: "refused too; only the first 20 refusals are listed",
    });
  });

  it("notes are bounded too (5,000 deletions of files that do not exist)", async () => {
    const del = Array.from({ length: 5000 }, (_, i) => `gone-${i}.txt`);
    const changes = normalizeChanges({ dockerfile: null, files: null, delete: del }, limits);
    const report = await applyChanges(join(tempDir(), "workspace"), changes);
    expect(report.notes).toHaveLength(21);
    expect(report.notes[20]).toBe("(4980 more notes left out)");
  });

  it("quotes the output does not hold are told to the judge bounded, each and in number", () => {
    const evidence = [...Array.from({ length: 5000 }, (_, i) => `claimed line ${i}`), "q".repeat(HUGE)];
    const check = checkEvidence(evidence, "hello\n");
    expect(check.missing).toHaveLength(5001); // the caller bounds what it echoes
    expect(check.problem?.length).toBeLessThan(2000);
    expect(check.problem).toContain('- "claimed line 19"');
    expect(check.problem).not.toContain("claimed line 20");
    expect(check.problem).toContain("(and 4981 more)");
  });
});
