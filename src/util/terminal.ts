/*
 * Text from the model, the endpoint or a program is data; on a terminal, control characters
 * in it are commands (set the title, recolour, rewrite lines, OSC 52 writes the clipboard).
 * strip-ansi would remove only the sequences it knows and leave bare controls (\r, \b, BEL,
 * C1 bytes, the payload of DCS/APC strings); one pass of our own removes both.
 *
 * In CI the log is read by the runner too, and some of it is commands. GitHub Actions (and
 * Azure Pipelines, whose agent it grew from) read stdout and stderr alike: a line whose first
 * non-blank characters are `::` is a workflow command (`::error::`, `::add-mask::`,
 * `::stop-commands::`), and so is `##[name]` (or `##vso[`) anywhere in a line. A space put
 * inside each marker leaves the text readable and the runner deaf to it.
 */

// biome-ignore-start lint/suspicious/noControlCharactersInRegex: control characters are the point
/**
 * A string (OSC, DCS, SOS, PM, APC) up to its terminator, or, unterminated, up to the next
 * escape (a terminal would swallow it too). The body never crosses an ESC: linear time.
 */
const STRING_SEQUENCE =
  /(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?/g;
/** CSI with its parameters (ESC [ or 8-bit CSI), and two-character escapes (ESC c, ESC ( B, ...). */
const SHORT_SEQUENCE = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|\u001b[ -/]*[0-~]/g;
/** What is left: C0 but tab and newline, DEL, C1, and the bidi overrides that reorder text. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw in strings that a terminal may still act on. */
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/**
 * `::` at the start of a line, after any blanks (the runner trims Unicode white space). The
 * blanks stop at a line's end: linear time.
 */
const LINE_COMMAND = /(^|[\n\r])([^\S\n\r]*):(?=:)/g;
/** The older form, read anywhere in a line: `##[error]`, and Azure's `##vso[`. */
const INLINE_COMMAND = /##((?:vso)?\[)/gi;
/** The same, for JSON text: `#` escaped inside the string it must be in. */
const JSON_INLINE_COMMAND = /#(?=#(?:vso)?\[)/gi;
// biome-ignore-end lint/suspicious/noControlCharactersInRegex: control characters are the point

/**
 * Text from outside (model, endpoint, program) made safe to print: escape sequences and
 * control characters removed; newlines and tabs kept, carriage returns dropped; no line of it
 * a CI runner's command.
 */
export function forTerminal(text: string): string {
  return inertForCi(stripControls(text));
}

/** Escape sequences and control characters removed; newlines and tabs kept. */
export function stripControls(text: string): string {
  return stripEscapes(text).replace(CONTROL, "");
}

/**
 * Text that no CI runner takes for a command: `::` opening a line becomes `: :`, `##[` becomes
 * `## [`. The text's own start counts as a line's start: it may be printed at one.
 */
export function inertForCi(text: string): string {
  return text.replace(LINE_COMMAND, "$1$2: ").replace(INLINE_COMMAND, "## $1");
}

/** Escape sequences (colours, cursor moves, OSC/DCS strings) removed; every other character kept. */
export function stripEscapes(text: string): string {
  return text.replace(STRING_SEQUENCE, "").replace(SHORT_SEQUENCE, "");
}

/** Every control character, newlines and tabs included: none belongs in a one-line name. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A name from outside shown as text on one line (a label value someone else set): every control
 * character written out as an escape (\x1b, \n), so what it is can be seen and nothing it does.
 */
export function shownAsText(text: string): string {
  return text.replace(ANY_CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** forTerminal over every string in a JSON-like value (an event, before a reporter shows it). */
export function forTerminalDeep<T>(value: T): T {
  if (typeof value === "string") return forTerminal(value) as T;
  if (Array.isArray(value)) return value.map((v) => forTerminalDeep(v)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = forTerminalDeep(v);
    return out as T;
  }
  return value;
}

/**
 * JSON.stringify, with DEL, C1 controls, line separators and bidi overrides escaped too
 * (JSON.stringify escapes only C0), so the JSON is safe to cat to a terminal; and `##[` as
 * `\u0023#[`, so it is safe in a CI log (no line of JSON starts with `::`). Outside strings
 * JSON is plain ASCII with no `#`, so every such character is inside a string and \uXXXX is
 * valid there.
 */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space)
    .replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(JSON_INLINE_COMMAND, "\\u0023");
}
