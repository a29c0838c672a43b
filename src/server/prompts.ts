import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { checkTemplate } from "../prompts/render.js";
import {
  loadTemplates,
  TEMPLATE_FILES,
  TEMPLATE_NAMES,
  TEMPLATE_VARS,
  type TemplateName,
  type TemplatePaths,
} from "../prompts/templates.js";
import { writeFileAtomic } from "../workspace/run-folder.js";

/** Where the server keeps its own state under --out (a name no run id can take). */
export const SERVER_DIR = ".azlon-serve";

/**
 * The templates the server's new runs use: those saved through the API (under
 * <out>/.azlon-serve/prompts/), else the config's, else azlon's defaults.
 */
export class PromptStore {
  readonly dir: string;

  constructor(
    outDir: string,
    private readonly configured: TemplatePaths,
    private readonly cwd: string,
  ) {
    this.dir = join(outDir, SERVER_DIR, "prompts");
  }

  /** The effective template paths, by name (absent: the default). */
  paths(): TemplatePaths {
    const paths: TemplatePaths = { ...this.configured };
    for (const name of TEMPLATE_NAMES) {
      const saved = join(this.dir, TEMPLATE_FILES[name]);
      if (existsSync(saved)) paths[name] = saved;
    }
    return paths;
  }

  view() {
    const templates = loadTemplates(this.paths(), this.cwd);
    return {
      templates,
      placeholders: Object.fromEntries(TEMPLATE_NAMES.map((n) => [n, [...TEMPLATE_VARS[n]]])) as Record<
        TemplateName,
        string[]
      >,
    };
  }

  /** Checks every template first (a ConfigError names the unknown placeholder), then saves them. */
  save(updates: Partial<Record<TemplateName, string>>): void {
    for (const [name, text] of Object.entries(updates) as Array<[TemplateName, string]>) {
      checkTemplate(text, TEMPLATE_VARS[name], name);
    }
    mkdirSync(this.dir, { recursive: true });
    for (const [name, text] of Object.entries(updates) as Array<[TemplateName, string]>) {
      writeFileAtomic(join(this.dir, TEMPLATE_FILES[name]), text);
    }
  }
}
