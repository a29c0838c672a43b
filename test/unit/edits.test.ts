import { describe, expect, it } from "vitest";
import { editFigure, estimateTokens } from "../../bench/edit-tokens.js";
import { applyEdit } from "../../src/workspace/edits.js";

// Named after the mistakes models make with search/replace edits (as aider's editblock tests are).
describe("applyEdit", () => {
  const file = "def add(a, b):\n    return a - b\n\n\ndef main():\n    print(add(2, 3))\n";

  it("replaces the one place the search text occurs, and nothing else", () => {
    expect(applyEdit(file, "return a - b", "return a + b")).toEqual({
      ok: true,
      content: file.replace("return a - b", "return a + b"),
      fuzzy: false,
    });
  });

  it("a search text that matches twice is refused, saying how often it occurs", () => {
    const twice = "x = 1\ny = 2\nx = 1\n";
    expect(applyEdit(twice, "x = 1", "x = 3")).toEqual({
      ok: false,
      reason:
        "the search text occurs twice in the file; it must occur exactly once (include more of the lines around it)",
    });
    expect(applyEdit("a\na\na\n", "a", "b")).toMatchObject({
      ok: false,
      reason: expect.stringContaining("occurs 3 times"),
    });
  });

  it("overlapping occurrences count ('aa' occurs twice in 'aaa')", () => {
    expect(applyEdit("aaa", "aa", "b")).toMatchObject({
      ok: false,
      reason: expect.stringContaining("twice"),
    });
  });

  it("a search text that is not in the file is refused, saying 0 times and what to do", () => {
    const outcome = applyEdit(file, "return a * b", "return a + b");
    expect(outcome).toEqual({
      ok: false,
      reason:
        "the search text occurs 0 times in the file; it must occur exactly once: copy it from the file as it is now, or send the whole file in files",
    });
  });

  it("an empty search text is refused", () => {
    expect(applyEdit(file, "", "x")).toEqual({ ok: false, reason: "the search text is empty" });
  });

  it("a replacement with $& or $1 in it is written literally, not as a pattern", () => {
    const outcome = applyEdit('price = "0"\n', '"0"', '"$&$1$$"');
    expect(outcome).toMatchObject({ ok: true, content: 'price = "$&$1$$"\n' });
  });

  it("a deletion: an empty replacement removes the search text", () => {
    expect(applyEdit("keep\ndrop me\nkeep too\n", "drop me\n", "")).toMatchObject({
      ok: true,
      content: "keep\nkeep too\n",
    });
  });

  it("trailing whitespace the model left out still matches when the match is unique, flagged fuzzy", () => {
    const spaced = "def f():  \n    return 1\t\n\nprint(f())\n";
    const outcome = applyEdit(spaced, "def f():\n    return 1\n", "def f():\n    return 2\n");
    expect(outcome).toEqual({ ok: true, content: "def f():\n    return 2\n\nprint(f())\n", fuzzy: true });
  });

  it("trailing whitespace the model added still matches (the file has none)", () => {
    const outcome = applyEdit("a = 1\nb = 2\n", "a = 1   \nb = 2", "a = 10\nb = 20");
    expect(outcome).toEqual({ ok: true, content: "a = 10\nb = 20\n", fuzzy: true });
  });

  it("a loose match that is not unique is refused, saying so", () => {
    const outcome = applyEdit("x = 1 \ny\nx = 1\t\n", "x = 1\ny\n", "z");
    expect(outcome).toMatchObject({ ok: true, fuzzy: true }); // unique over two lines
    const twice = applyEdit("x = 1 \nx = 1\t\n", "x = 1\n", "z\n");
    expect(twice).toEqual({
      ok: false,
      reason: expect.stringContaining(
        "occurs 0 times in the file (it matches twice when trailing whitespace and line endings are ignored)",
      ),
    });
  });

  it("leading indentation is never ignored: a search with the wrong indent is refused", () => {
    expect(applyEdit(file, "      return a - b\n", "x")).toMatchObject({
      ok: false,
      reason: expect.stringContaining("occurs 0 times"),
    });
  });

  it("CRLF file, LF search (models write LF): matches, and the file keeps its CRLF endings", () => {
    const crlf = "line one\r\nline two\r\nline three\r\n";
    const outcome = applyEdit(crlf, "line one\nline two\n", "line 1\nline 2\n");
    expect(outcome).toEqual({ ok: true, content: "line 1\r\nline 2\r\nline three\r\n", fuzzy: true });
  });

  it("CRLF file, one line without its end: the line end stays", () => {
    const outcome = applyEdit("a\r\nb\r\n", "a\nb", "A\nB");
    expect(outcome).toEqual({ ok: true, content: "A\r\nB\r\n", fuzzy: true });
  });

  it("a single-line search inside a CRLF file matches exactly", () => {
    expect(applyEdit("a = 1\r\nb = 2\r\n", "b = 2", "b = 3")).toEqual({
      ok: true,
      content: "a = 1\r\nb = 3\r\n",
      fuzzy: false,
    });
  });
});

describe("the bench's edit figure", () => {
  it("a one-line fix in a 40 KB file costs at most 10% of the output of sending the file whole", () => {
    const figure = editFigure();
    expect(figure.fileBytes).toBeGreaterThanOrEqual(40 * 1024);
    expect(estimateTokens(figure.editBytes) / estimateTokens(figure.wholeBytes)).toBeLessThanOrEqual(0.1);
  });
});
