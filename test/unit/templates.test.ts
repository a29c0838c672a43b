import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import {
  defaultPromptsDir,
  loadTemplates,
  TEMPLATE_FILES,
  TEMPLATE_NAMES,
} from "../../src/prompts/templates.js";
import { thrown } from "../helpers/thrown.js";
import { tempDir } from "../helpers/tmp.js";

const repoPrompts = join(import.meta.dirname, "../../prompts");

describe("loadTemplates", () => {
  it("finds the repository's prompts/ folder", () => {
    expect(defaultPromptsDir()).toBe(repoPrompts);
  });

  it("loads the four defaults from prompts/", () => {
    const templates = loadTemplates();
    for (const name of TEMPLATE_NAMES) {
      expect(templates[name]).toEqual({
        text: readFileSync(join(repoPrompts, TEMPLATE_FILES[name]), "utf8"),
        source: "default",
      });
    }
  });

  it("the default user templates use the test conditions and the prompt", () => {
    const templates = loadTemplates();
    for (const name of ["generateUser", "validateUser"] as const) {
      expect(templates[name].text).toMatch(/\{\{\s*tests\s*\}\}/);
      expect(templates[name].text).toMatch(/\{\{\s*prompt\s*\}\}/);
    }
    expect(templates.validateUser.text).toMatch(/\{\{\s*output\s*\}\}/);
  });

  it("reads an override relative to the base folder and keeps the other defaults", () => {
    const dir = tempDir({ "mine/judge.md": "Judge {{ tests }} against {{output}}" });
    const templates = loadTemplates({ validateUser: "mine/judge.md" }, dir);
    expect(templates.validateUser).toEqual({
      text: "Judge {{ tests }} against {{output}}",
      source: join(dir, "mine/judge.md"),
    });
    expect(templates.generateSystem.source).toBe("default");
  });

  it("a missing override is a ConfigError naming the template and the path", () => {
    const dir = tempDir();
    const error = thrown(() => loadTemplates({ generateSystem: "nope.md" }, dir));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("generateSystem");
    expect((error as Error).message).toContain(join(dir, "nope.md"));
  });

  it("an override using a placeholder its template cannot have is a ConfigError naming it", () => {
    // {{output}} exists for validateUser, not for generateUser.
    const dir = tempDir({ "gen.md": "Build {{prompt}}; you will see {{output}}" });
    const error = thrown(() => loadTemplates({ generateUser: "gen.md" }, dir));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("{{output}}");
    expect((error as Error).message).toContain(join(dir, "gen.md"));
    expect((error as ConfigError).hint).toContain("{{prompt}}");
  });
});
