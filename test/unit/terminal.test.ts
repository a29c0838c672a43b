import { describe, expect, it } from "vitest";
import { forTerminal, forTerminalDeep, inertForCi, safeJson } from "../../src/util/terminal.js";

const ESC = "\u001b";
const BEL = "\u0007";
/** Anything a terminal acts on: C0 but newline and tab, DEL, C1, bidi overrides. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("forTerminal: what the model or the endpoint says is shown, never obeyed", () => {
  it.each([
    ["a window title (OSC 0, ended by BEL)", `${ESC}]0;pwned${BEL}done`, "done"],
    ["a title ended by ST", `${ESC}]2;pwned${ESC}\\done`, "done"],
    ["an OSC 52 clipboard write", `ok ${ESC}]52;c;ZWNobyBwd25lZA==${BEL}then`, "ok then"],
    ["a hyperlink (OSC 8)", `${ESC}]8;;http://evil${ESC}\\click${ESC}]8;;${ESC}\\`, "click"],
    ["colours (CSI m)", `${ESC}[31;1mred${ESC}[0m`, "red"],
    ["clear screen and cursor moves", `${ESC}[2J${ESC}[H${ESC}[10;20Hx${ESC}[?25l`, "x"],
    ["8-bit CSI", "\u009b31mred", "red"],
    ["8-bit OSC ended by 8-bit ST", "\u009d0;pwned\u009cdone", "done"],
    ["a DCS string", `${ESC}Pq#0;2;0;0;0${ESC}\\done`, "done"],
    ["an APC string", `${ESC}_payload${ESC}\\done`, "done"],
    ["a full reset (ESC c)", `${ESC}cdone`, "done"],
    ["a charset switch (ESC ( 0)", `${ESC}(0done`, "done"],
    [
      "a carriage return that would overwrite the line",
      "all tests fail\rall tests pass",
      "all tests failall tests pass",
    ],
    ["backspaces", "fail\b\b\b\bpass", "failpass"],
    ["a bell", `ding${BEL}`, "ding"],
    ["a lone escape", `a${ESC}`, "a"],
    ["DEL and C1 controls", "a\u007fb\u0085c\u008dd", "abcd"],
    ["bidi overrides", "user\u202Egnp.exe", "usergnp.exe"],
  ])("removes %s", (_what, input, expected) => {
    const shown = forTerminal(input);
    expect(shown).toBe(expected);
    expect(shown).not.toMatch(ACTIVE);
  });

  it("keeps newlines, tabs and any printable text", () => {
    const text = "line one\n\tindented: é, 日本語, 🙂, ½, « »\nline three";
    expect(forTerminal(text)).toBe(text);
  });

  it("an unterminated string is removed up to the next escape, as a terminal would swallow it", () => {
    expect(forTerminal(`ok ${ESC}]0;title`)).toBe("ok ");
    expect(forTerminal(`ok ${ESC}]0;title${ESC}[31m red`)).toBe("ok  red");
  });

  it("takes linear time on hostile input (no backtracking over unterminated strings)", () => {
    const started = performance.now();
    forTerminal(`${ESC}]`.repeat(200_000) + `${ESC}[`.repeat(200_000) + "\u009d".repeat(200_000));
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("cleans every string of an event, leaving numbers and booleans", () => {
    const event = {
      type: "verdict",
      iteration: 2,
      passed: false,
      reason: `no${ESC}]0;x${BEL}`,
      evidence: [`${ESC}[31mq`],
    };
    expect(forTerminalDeep(event)).toEqual({ ...event, reason: "no", evidence: ["q"] });
  });
});

/**
 * Would the GitHub Actions runner take this line for a command? Its own rules (actions/runner,
 * ActionCommand.TryParseV2 and TryParse): `::` after the line's leading white space, or `##[`
 * anywhere; Azure Pipelines' agent reads `##vso[` anywhere.
 */
function isRunnerCommand(line: string): boolean {
  return line.trimStart().startsWith("::") || line.includes("##[") || /##vso\[/i.test(line);
}

describe("inertForCi: no line the model writes is a CI runner's command", () => {
  it.each([
    ["a command opening the text", "::error::forged", ": :error::forged"],
    ["a command on a later line", "done\n::add-mask::secret", "done\n: :add-mask::secret"],
    [
      "a command after blanks",
      "x\n \t\u00a0\u3000::stop-commands::t",
      "x\n \t\u00a0\u3000: :stop-commands::t",
    ],
    ["the old form mid-line", "all good ##[error]forged", "all good ## [error]forged"],
    [
      "Azure's form mid-line",
      "ok ##vso[task.setvariable variable=x]1",
      "ok ## vso[task.setvariable variable=x]1",
    ],
    ["three colons", ":::warning::x", ": ::warning::x"],
  ])("%s", (_what, input, expected) => {
    const shown = inertForCi(input);
    expect(shown).toBe(expected);
    for (const line of shown.split("\n")) expect(isRunnerCommand(line), line).toBe(false);
  });

  it("leaves ordinary text alone: C++ names, IPv6 addresses, headings", () => {
    const text = "std::vector at [::1]:8080\n## [Unreleased]\n# Title";
    expect(inertForCi(text)).toBe(text);
  });

  it("is part of forTerminal, after carriage returns are gone", () => {
    // The runner splits lines at a bare CR too; with the CR gone, this is one line, "fine::...".
    expect(forTerminal("fine\r::error::x")).toBe("fine::error::x");
    expect(forTerminal("fine\n\r::error::x")).toBe("fine\n: :error::x");
  });

  it("takes linear time on hostile input", () => {
    const started = performance.now();
    inertForCi(`${"\n".repeat(100_000)}${" ".repeat(100_000)}x${"\n ".repeat(100_000)}`);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("safeJson: JSON that is safe to cat to a terminal", () => {
  it("escapes C0 (as JSON.stringify does), and also DEL, C1, line separators and bidi overrides", () => {
    const value = { reason: `${ESC}]52;c;eA==${BEL} \u009b31m \u007f \u2028 \u202e`, n: 1 };
    const text = safeJson(value);
    expect(text).not.toMatch(ACTIVE);
    expect(text).not.toContain("\u2028");
    expect(text).toContain("\\u001b");
    expect(text).toContain("\\u009b");
    expect(JSON.parse(text)).toEqual(value);
  });

  it("writes `##[` as `\\u0023#[`: the JSON line is no runner command, and parses to the same value", () => {
    const value = { reason: "x ##[error]forged ##vso[task.complete]\n::error::y", quotes: ["###["] };
    const text = safeJson(value);
    expect(isRunnerCommand(text)).toBe(false);
    expect(JSON.parse(text)).toEqual(value);
  });

  it("is JSON.stringify for ordinary values, indentation included", () => {
    const value = { a: [1, "é 日本"], b: { c: null } };
    expect(safeJson(value, 2)).toBe(JSON.stringify(value, null, 2));
  });
});
