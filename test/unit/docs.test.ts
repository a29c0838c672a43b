import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/io.js";
import { buildProgram } from "../../src/cli/main.js";
import { ConfigSchema } from "../../src/config/schema.js";

const ROOT = join(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const PAGES = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks and inline code: where markdown links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "``");
}

/** Every link and image target of a page: [text](target), ![alt](target). */
function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
}

/** The anchors GitHub makes of a page's headings (lowercase, punctuation dropped, spaces to -). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const outsideCode = markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, "");
  for (const [, heading] of outsideCode.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = (heading as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** The links of `page` that lead nowhere: a missing file, or a heading the target lacks. */
function deadLinks(page: string, text: string): string[] {
  const dead: string[] = [];
  for (const target of links(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: — not ours to check
    const [path = "", anchor] = target.split("#");
    const file = path ? join(ROOT, dirname(page), decodeURIComponent(path)) : join(ROOT, page);
    if (!existsSync(file)) {
      dead.push(`${target} (no ${relative(ROOT, file)})`);
      continue;
    }
    if (anchor && statSync(file).isFile() && file.endsWith(".md")) {
      if (!anchors(readFileSync(file, "utf8")).has(anchor)) dead.push(`${target} (no heading #${anchor})`);
    }
  }
  return dead;
}

function program(): Command {
  const context: CliContext = {
    env: {},
    cwd: "/",
    stdout: { write: () => true },
    stderr: { write: () => true },
  };
  return buildProgram(context, { json: false, code: 0 });
}

/** Every command as typed ("azlon", "azlon run", "azlon batch merge") with the flags its --help prints. */
function helpFlags(): Array<{ command: string; flags: string[] }> {
  const root = program();
  const help = root.createHelp();
  const walk = (cmd: Command, name: string): Array<{ command: string; flags: string[] }> => [
    // visibleOptions: what --help prints, the help flag included, options hidden with hideHelp not.
    { command: name, flags: help.visibleOptions(cmd).map((o) => o.flags) },
    ...cmd.commands.flatMap((sub) => walk(sub, `${name} ${sub.name()}`)),
  ];
  return walk(root, "azlon");
}

/** The part of command-line.md under "## `<command>`", up to the next heading of that level. */
function section(page: string, command: string): string | null {
  const start = page.indexOf(`\n## \`${command}\`\n`);
  if (start < 0) return null;
  const end = page.indexOf("\n## ", start + 1);
  return page.slice(start, end < 0 ? undefined : end);
}

describe("the README is a front page, and docs/ holds the rest", () => {
  it("README.md is at most 15,000 bytes", () => {
    expect(statSync(join(ROOT, "README.md")).size).toBeLessThanOrEqual(15_000);
  });

  it("links from the README to every docs/ page, and the README keeps the test command CI runs", () => {
    const readme = read("README.md");
    for (const page of PAGES.filter((p) => p !== "README.md")) expect(links(readme)).toContain(page);
    // .ci/run runs what the README says: its last command is the README's test command.
    const ci = read(".ci/run").trim().split("\n");
    expect(ci.at(-1)).toBe("npm test");
    expect(readme).toMatch(/^```\n(?:[^\n]*\n)*?npm test\n```$/m);
  });

  it("every relative link in the README and docs/*.md leads to a file that exists, and its heading", () => {
    for (const page of PAGES) expect(deadLinks(page, read(page)), page).toEqual([]);
  });

  it("finds a dead link and a missing heading (the check itself)", () => {
    const page = "docs/x.md";
    const text = "[a](ci.md) [b](nowhere.md) [c](configuration.md#no-such-heading) `[d](gone.md)`";
    expect(deadLinks(page, text)).toEqual([
      "nowhere.md (no docs/nowhere.md)",
      "configuration.md#no-such-heading (no heading #no-such-heading)",
    ]);
  });

  it("docs/command-line.md has a section for every command, holding every flag its --help prints", () => {
    const page = read("docs/command-line.md");
    const all = helpFlags();
    expect(all.map((c) => c.command)).toEqual(
      expect.arrayContaining([
        "azlon",
        "azlon run",
        "azlon prompts init",
        "azlon batch merge",
        "azlon bench",
      ]),
    );
    for (const { command, flags } of all) {
      const text = section(page, command);
      expect(text, `no "## \`${command}\`" section`).not.toBeNull();
      for (const flag of flags) expect(text, `${command}: ${flag}`).toContain(`\`${flag}\``);
    }
  });

  it("docs/configuration.md describes every key of the config schema", () => {
    const page = read("docs/configuration.md");
    const keys = Object.keys(ConfigSchema.shape);
    expect(keys).toEqual(expect.arrayContaining(["model", "maxIterations", "checkImage", "maxFromSize"]));
    for (const key of keys) expect(page, key).toMatch(new RegExp(`^\\| \`${key}\` \\|`, "m"));
  });

  it("what help, the starter config and .azlonrc.example point at in docs/ exists, and ships in the package", () => {
    const sources = [
      ...readdirSync(join(ROOT, "src/cli"))
        .filter((f) => f.endsWith(".ts"))
        .map((f) => `src/cli/${f}`),
      "src/config/starter.ts",
      ".azlonrc.example",
    ];
    const named = sources.flatMap((s) => [...read(s).matchAll(/docs\/[\w./-]*\.md/g)].map((m) => m[0]));
    expect(named).toEqual(expect.arrayContaining(["docs/configuration.md", "docs/command-line.md"]));
    for (const path of named) expect(existsSync(join(ROOT, path)), path).toBe(true);
    const files: string[] = JSON.parse(read("package.json")).files;
    expect(files).toContain("docs/");
  });
});
