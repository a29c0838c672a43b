import { describe, expect, it } from "vitest";
import { checkEvidence } from "../../src/core/evidence.js";
import { stripEscapes } from "../../src/util/terminal.js";

const output = [
  "Running checks",
  "CHECK add(2, 3) == 5: PASS",
  "  CHECK add(-1, 1) == 0: PASS   ",
  "\u001b[32mCHECK colours: PASS\u001b[0m",
  "2 of 2 checks passed",
].join("\n");

describe("checkEvidence", () => {
  it("does not take a short fragment of a line as proof", () => {
    const output = "FAILED: expected 5, got 4\nsum = 4\n";
    expect(checkEvidence(["5"], output).missing).toEqual(["5"]);
    expect(checkEvidence(["PASS"], "3 PASSED, 2 FAILED\n").missing).toEqual(["PASS"]);
    // A whole short line is fine, and so is a long enough part of a line.
    expect(checkEvidence(["sum = 4"], output).problem).toBeNull();
    expect(checkEvidence(["expected 5, got 4"], output).problem).toBeNull();
  });

  it("accepts a quote of an exact line", () => {
    expect(checkEvidence(["CHECK add(2, 3) == 5: PASS"], output)).toEqual({ missing: [], problem: null });
  });

  it("ignores whitespace around the quote and around the output line", () => {
    expect(checkEvidence(["   CHECK add(-1, 1) == 0: PASS\n"], output).problem).toBeNull();
    expect(checkEvidence(["\tCHECK add(2, 3) == 5: PASS  "], output).problem).toBeNull();
  });

  it("accepts a quote of coloured output without the colour codes", () => {
    expect(checkEvidence(["CHECK colours: PASS"], output).problem).toBeNull();
  });

  it("accepts a quote that kept the colour codes", () => {
    expect(checkEvidence(["\u001b[32mCHECK colours: PASS\u001b[0m"], output).problem).toBeNull();
  });

  it("takes non-ASCII text and escapes as printed: never unescaped, never re-escaped", () => {
    // Python's json.dumps prints \u00e9 (six characters) unless told otherwise; print() prints é.
    const printed = 'json: {"name": "caf\\u00e9"}\ntext: café ✓ naïve\n';
    expect(checkEvidence(['json: {"name": "caf\\u00e9"}', "text: café ✓ naïve"], printed).problem).toBeNull();
    // The model decoded the escape, or escaped the character: neither was printed.
    expect(checkEvidence(['json: {"name": "café"}'], printed).missing).toHaveLength(1);
    expect(checkEvidence(["text: caf\\u00e9 \\u2713 naïve"], printed).missing).toHaveLength(1);
  });

  it("a line quoted as printed, leading spaces included, is found", () => {
    expect(checkEvidence(["  CHECK add(-1, 1) == 0: PASS   "], output).problem).toBeNull();
  });

  it("refuses azlon's own headings, saying they are not lines the program or a check printed", () => {
    const result = checkEvidence(["## `python3 /azlon/checks/test_x.py`: PASSED, 172 ms"], output);
    expect(result.missing).toHaveLength(1);
    expect(result.problem).toContain("not lines the program or a check printed");
    expect(result.problem).toContain("azlon's headings and notes are not output");
  });

  it("accepts part of a line", () => {
    expect(checkEvidence(["2 of 2 checks"], output).problem).toBeNull();
  });

  it("names a quote that is not in the output", () => {
    const result = checkEvidence(["CHECK add(2, 3) == 5: PASS", "CHECK mul(2, 3) == 6: PASS"], output);
    expect(result.missing).toEqual(["CHECK mul(2, 3) == 6: PASS"]);
    expect(result.problem).toContain('- "CHECK mul(2, 3) == 6: PASS"');
    expect(result.problem).not.toContain('"CHECK add(2, 3) == 5: PASS"');
    expect(result.problem).toContain("passed: false");
  });

  it("refuses a quote that changes the line (a model's paraphrase)", () => {
    expect(checkEvidence(["CHECK add(2,3) == 5: PASS"], output).missing).toEqual([
      "CHECK add(2,3) == 5: PASS",
    ]);
    expect(checkEvidence(["check add(2, 3) == 5: pass"], output).missing).toHaveLength(1);
  });

  it("refuses a quote that spans two lines of the output as if they were one", () => {
    const result = checkEvidence(["Running checks CHECK add(2, 3) == 5: PASS"], output);
    expect(result.missing).toHaveLength(1);
  });

  it.each([
    ["no evidence", []],
    ["only empty strings", ["", "   ", "\n"]],
  ])("a pass with %s must be proven", (_name, evidence) => {
    const result = checkEvidence(evidence, output);
    expect(result.missing).toEqual([]);
    expect(result.problem).toMatch(/^A pass must be proven/);
  });

  it("checks a multi-line quote line by line", () => {
    const quote = "CHECK add(2, 3) == 5: PASS\n  CHECK add(-1, 1) == 0: PASS\n\n2 of 2 checks passed";
    expect(checkEvidence([quote], output).problem).toBeNull();
    const wrong = "CHECK add(2, 3) == 5: PASS\n3 of 3 checks passed";
    expect(checkEvidence([wrong], output).missing).toEqual(["3 of 3 checks passed"]);
  });

  it("reads output with Windows or old Mac line endings", () => {
    expect(checkEvidence(["second"], "first\r\nsecond\r\n").problem).toBeNull();
    expect(checkEvidence(["first second"], "first\rsecond").missing).toHaveLength(1);
  });

  it("finds nothing in empty output", () => {
    expect(checkEvidence(["PASS"], "").missing).toEqual(["PASS"]);
  });
});

describe("stripEscapes", () => {
  it("removes colour, cursor and title sequences and keeps the text", () => {
    expect(stripEscapes("\u001b[1;31mred\u001b[0m \u001b[2K\u001b[1Gline \u001b]0;title\u0007done")).toBe(
      "red line done",
    );
  });
});
