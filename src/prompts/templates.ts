import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../core/errors.js";
import { fileErrorCause } from "../util/file-errors.js";
import { embeddedTemplate } from "./embedded.js";
import { checkTemplate } from "./render.js";

export const TEMPLATE_NAMES = ["generateSystem", "generateUser", "validateSystem", "validateUser"] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export const TEMPLATE_FILES: Record<TemplateName, string> = {
  generateSystem: "generate.system.md",
  generateUser: "generate.user.md",
  validateSystem: "validate.system.md",
  validateUser: "validate.user.md",
};

/** The placeholders each template may use; rendering anything else is an error. */
export const TEMPLATE_VARS: Record<TemplateName, readonly string[]> = {
  generateSystem: ["limits", "baseImage", "entrypoint", "projectRules"],
  generateUser: ["prompt", "tests", "checks", "project", "reads"],
  validateSystem: ["limits", "baseImage", "entrypoint"],
  validateUser: [
    "prompt",
    "tests",
    "iteration",
    "maxIterations",
    "lastRound",
    "history",
    "refused",
    "dockerfile",
    "files",
    "unchangedFiles",
    "changedFiles",
    "projectFiles",
    "changedNames",
    "result",
    "output",
    "checks",
    "checkResults",
    "projectMap",
    "reads",
  ],
};

export interface Template {
  text: string;
  /** "default" or the path of the file it was read from. */
  source: string;
}
export type Templates = Record<TemplateName, Template>;
/** Paths of replacement templates, by name; absent ones use the defaults. */
export type TemplatePaths = Partial<Record<TemplateName, string>>;

/**
 * The folder holding the default templates. Found by walking up from this module, so it
 * works from the TypeScript sources, from the bundle in dist/, and from an installed package.
 */
export function defaultPromptsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "prompts");
    if (existsSync(join(candidate, TEMPLATE_FILES.generateSystem))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("azlon's default prompt templates are missing from its installation");
    dir = parent;
  }
}

/** The default text of a template: embedded in the single executable, else from prompts/. */
export function defaultTemplateText(name: TemplateName): string {
  return embeddedTemplate(TEMPLATE_FILES[name]) ?? readFileSync(defaultTemplatePath(name), "utf8");
}

/** Where a default template comes from, for people: its file, or the executable. */
export function defaultTemplatePath(name: TemplateName): string {
  if (embeddedTemplate(TEMPLATE_FILES[name]) !== null) return `${TEMPLATE_FILES[name]} embedded in azlon`;
  return join(defaultPromptsDir(), TEMPLATE_FILES[name]);
}

export function loadTemplates(paths: TemplatePaths = {}, baseDir = process.cwd()): Templates {
  const out = {} as Templates;
  for (const name of TEMPLATE_NAMES) {
    const override = paths[name];
    if (!override) {
      const text = defaultTemplateText(name);
      checkTemplate(text, TEMPLATE_VARS[name], TEMPLATE_FILES[name]);
      out[name] = { text, source: "default" };
      continue;
    }
    const path = resolve(baseDir, override);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new ConfigError(
        `cannot read prompt template "${name}" at ${path}: ${fileErrorCause(error)}`,
        "fix the path under prompts in your azlon config, or run `azlon prompts init` to write the defaults",
      );
    }
    checkTemplate(text, TEMPLATE_VARS[name], path);
    out[name] = { text, source: path };
  }
  return out;
}
