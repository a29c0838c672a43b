import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { resolveConfig } from "../../config/load.js";
import { trustNote } from "../../config/trust.js";
import { UsageError } from "../../core/errors.js";
import {
  defaultTemplatePath,
  defaultTemplateText,
  loadTemplates,
  TEMPLATE_FILES,
  TEMPLATE_NAMES,
  TEMPLATE_VARS,
} from "../../prompts/templates.js";
import { fileErrorCause } from "../../util/file-errors.js";
import type { CliContext } from "../io.js";

/** `azlon prompts`: the effective templates, where each comes from, and what it may use. */
export async function showPrompts(
  flags: { config?: string; trustConfig?: boolean; name?: string },
  ctx: CliContext,
): Promise<number> {
  const { config, configPath, trusted, userConfigPath } = await resolveConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    flags: {},
    configPath: flags.config ?? null,
    trustConfig: !!flags.trustConfig,
  });
  const templates = loadTemplates(config.prompts, ctx.cwd);
  const names = flags.name ? [flags.name] : [...TEMPLATE_NAMES];
  for (const name of names) {
    if (!(TEMPLATE_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`unknown template "${name}"`, `the templates are ${TEMPLATE_NAMES.join(", ")}`);
    }
  }
  ctx.stdout.write(`config: ${configPath ? `${configPath}${trustNote(trusted)}` : "none found"}\n`);
  ctx.stdout.write(`user config: ${userConfigPath ?? "none"}\n\n`);
  for (const name of names as Array<(typeof TEMPLATE_NAMES)[number]>) {
    const t = templates[name];
    const source = t.source === "default" ? `default (${defaultTemplatePath(name)})` : t.source;
    ctx.stdout.write(`=== ${name} · ${source}\n`);
    ctx.stdout.write(`    placeholders: ${TEMPLATE_VARS[name].map((v) => `{{${v}}}`).join(" ")}\n\n`);
    ctx.stdout.write(`${t.text.endsWith("\n") ? t.text : `${t.text}\n`}\n`);
  }
  return 0;
}

/** `azlon prompts init [dir]`: copies the default templates out for editing. */
export async function initPrompts(
  dir: string | undefined,
  flags: { force?: boolean },
  ctx: CliContext,
): Promise<number> {
  const target = resolve(ctx.cwd, dir ?? "azlon-prompts");
  const existing = Object.values(TEMPLATE_FILES).filter((f) => existsSync(join(target, f)));
  if (existing.length && !flags.force) {
    throw new UsageError(
      `${target} already holds ${existing.join(", ")}`,
      "pass --force to overwrite them, or choose another folder",
    );
  }
  try {
    mkdirSync(target, { recursive: true });
    // Written from the text, not copied: the single executable has no files to copy.
    for (const name of TEMPLATE_NAMES)
      writeFileSync(join(target, TEMPLATE_FILES[name]), defaultTemplateText(name));
  } catch (error) {
    throw new UsageError(
      `cannot write the templates to ${target}: ${fileErrorCause(error)}`,
      "choose a folder that can be written (a new one is made)",
    );
  }
  const rel = relative(ctx.cwd, target) || ".";
  const snippet = Object.fromEntries(TEMPLATE_NAMES.map((n) => [n, `${rel}/${TEMPLATE_FILES[n]}`]));
  ctx.stdout.write(
    `wrote ${TEMPLATE_NAMES.length} templates to ${target}\n` +
      `to use them, put this in your azlon config (.azlonrc.json), then edit the files:\n` +
      `${JSON.stringify({ prompts: snippet }, null, 2)}\n` +
      "placeholders such as {{tests}} are filled in by azlon; `azlon prompts` lists those each template may use.\n",
  );
  return 0;
}
