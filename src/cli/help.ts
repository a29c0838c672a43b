import type { Command } from "commander";
import { DEFAULTS } from "../config/defaults.js";

/** The width the short help is laid out for: a terminal's default. */
export const HELP_WIDTH = 80;

/**
 * The flags of `azlon run` worth a first look, in a few words each; the rest are in
 * `azlon run --help`. A flag `run` no longer has is left out rather than shown wrong.
 */
const COMMON_FLAGS: Array<[long: string, text: string]> = [
  ["--prompt", "what to build"],
  ["--tests", "how to tell that it works, in plain words"],
  ["--model", `the model (env AZLON_MODEL; default ${DEFAULTS.model})`],
  ["--base-url", "an OpenAI-compatible endpoint (env OPENAI_BASE_URL)"],
  ["--check", "a command that must exit 0 in the image (repeatable)"],
  ["--from", "start from your project; the change ends as a patch"],
  ["--max-iterations", `rounds before giving up (default ${DEFAULTS.maxIterations})`],
  ["--json", "one JSON result object on stdout, for CI"],
];

/** Words wrapped to `width`, each line after the first indented by `indent`. */
function wrap(text: string, width: number, indent = ""): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (next.length > width - (lines.length ? indent.length : 0) && line) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.map((l, i) => (i ? indent + l : l));
}

/** A command's name as typed, with its arguments: "show <run-dir>", "prompts init [dir]". */
function term(cmd: Command): string {
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return [...names, ...args].join(" ");
}

/**
 * What a command does in one line: its summary, else its description's first clause, cut to
 * fit. A command added without a summary shows up all the same.
 */
function oneLine(cmd: Command, room: number): string {
  const text = cmd.summary() || cmd.description().split(/[;:]\s|\s\(/)[0] || "";
  return text.length <= room ? text : `${text.slice(0, room - 1).replace(/\s+\S*$/, "")}…`;
}

/** The commands as listed, each followed by its own subcommands; hidden ones and `help` left out. */
function listed(program: Command): Command[] {
  const help = program.createHelp();
  const visible = (cmd: Command) => help.visibleCommands(cmd).filter((c) => c.name() !== "help");
  return visible(program).flatMap((cmd) => [cmd, ...visible(cmd)]);
}

/**
 * `azlon --help` (and `azlon` alone): one screen, at most 40 lines. Every registered command
 * in one line, the flags most runs need, an example, and where the rest is.
 */
export function shortHelp(program: Command): string {
  const commands = listed(program);
  const run = program.commands.find((c) => c.name() === "run");
  const flags = COMMON_FLAGS.flatMap(([long, text]) => {
    const option = run?.options.find((o) => o.long === long);
    return option ? [[option.flags, text] as const] : [];
  });
  const column = Math.max(...commands.map((c) => term(c).length), ...flags.map(([f]) => f.length)) + 2;
  const row = (left: string, right: string) => `  ${left.padEnd(column)}${right}`;
  const room = HELP_WIDTH - column - 2;
  const lines = [
    `Usage: ${program.name()} <command> [options]`,
    "",
    ...wrap(program.description(), HELP_WIDTH),
    "",
    "Commands:",
    ...commands.map((c) => row(term(c), oneLine(c, room))),
    "",
    ...(flags.length ? ["Common flags of run:", ...flags.map(([f, text]) => row(f, text)), ""] : []),
    "Example:",
    '  azlon run --prompt "a Python CLI that adds two numbers" \\',
    '            --tests "running it prints 2 + 3 = 5 and exits 0"',
    "",
    `${program.name()} <command> --help for more: every flag, the config, exit codes.`,
    // The reference beside the help: docs/ ships in the package (package.json "files").
    "All of it: docs/command-line.md and docs/ in the azlon package and repository.",
  ];
  return `${lines.join("\n")}\n`;
}
