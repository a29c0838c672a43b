import { ConfigError } from "../core/errors.js";

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The placeholders a template uses, in order of first use. */
export function placeholders(template: string): string[] {
  const names: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1] as string;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Throws when the template uses a placeholder that is not in `known`. */
export function checkTemplate(template: string, known: readonly string[], source: string): void {
  const unknown = placeholders(template).filter((name) => !known.includes(name));
  if (unknown.length) {
    throw new ConfigError(
      `prompt template ${source} uses unknown placeholder ${unknown.map((n) => `{{${n}}}`).join(", ")}`,
      `the placeholders it can use are ${known.map((n) => `{{${n}}}`).join(", ")}`,
    );
  }
}

/**
 * Drops the lines of block placeholders whose value is empty (with the blank line after), so a
 * section that does not apply (no checks) leaves no gap. Only the template is touched, never a value.
 */
export function dropEmptyBlocks(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(
    /(?<=^|\n)[ \t]*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}[ \t]*(?:\n\n?|$)/g,
    (line, name: string) => (values[name] === "" ? "" : line),
  );
}

/**
 * Fills a template in one pass: values are inserted literally (a value that contains
 * "{{x}}", such as program output, is not expanded again). Unknown placeholders throw.
 */
export function render(template: string, values: Readonly<Record<string, string>>, source: string): string {
  checkTemplate(template, Object.keys(values), source);
  return template.replace(PLACEHOLDER, (_match, name: string) => values[name] as string);
}
