import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { checkTemplate, placeholders, render } from "../../src/prompts/render.js";
import { thrown } from "../helpers/thrown.js";

describe("render", () => {
  it("fills every placeholder, also one used twice", () => {
    expect(render("{{a}} and {{b}}, again {{a}}", { a: "A", b: "B" }, "t.md")).toBe("A and B, again A");
  });

  it("allows whitespace inside the braces", () => {
    expect(render("Tests: {{ tests }} / {{tests}} / {{\ttests\n}}", { tests: "T" }, "t.md")).toBe(
      "Tests: T / T / T",
    );
  });

  it("throws a ConfigError naming an unknown placeholder and the template", () => {
    const error = thrown(() => render("Hi {{name}}, {{ oops }} {{also}}", { name: "x" }, "my/custom.md"));
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.message).toContain("my/custom.md");
    expect(e.message).toContain("{{oops}}, {{also}}");
    expect(e.hint).toContain("{{name}}");
    expect(e.exitCode).toBe(2);
  });

  it("does not expand placeholders that appear inside values (program output)", () => {
    const output = "template engine printed {{tests}} and {{ output }} and {{unknown}}";
    expect(render("OUT: {{output}} / TESTS: {{tests}}", { output, tests: "T" }, "t.md")).toBe(
      `OUT: ${output} / TESTS: T`,
    );
  });

  it("inserts values literally, dollar patterns included", () => {
    const value = "cost: $& $1 $$ $` $'";
    expect(render("[{{v}}]", { v: value }, "t.md")).toBe(`[${value}]`);
  });

  it("leaves braces that are not placeholders alone (JSON examples in prompts)", () => {
    const template = 'Answer {"passed": boolean} or {{ 1bad }} or {single} then {{x}}';
    expect(render(template, { x: "X" }, "t.md")).toBe(
      'Answer {"passed": boolean} or {{ 1bad }} or {single} then X',
    );
  });

  it("values that go unused are fine", () => {
    expect(render("plain", { unused: "u" }, "t.md")).toBe("plain");
  });
});

describe("placeholders and checkTemplate", () => {
  it("lists placeholders once each, in order of first use", () => {
    expect(placeholders("{{b}} {{ a }} {{b}} {{c_1}}")).toEqual(["b", "a", "c_1"]);
  });

  it("accepts a template using only known names, and names the unknown ones otherwise", () => {
    expect(() => checkTemplate("{{a}}", ["a", "b"], "x.md")).not.toThrow();
    expect(() => checkTemplate("{{a}} {{zz}}", ["a"], "x.md")).toThrow(
      /x\.md uses unknown placeholder \{\{zz\}\}/,
    );
  });
});
