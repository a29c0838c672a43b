/*
 * What azlon echoes of the model's words (a refused path, a quote, a reason) goes to stderr,
 * run.json, the journal and the next prompt, every round. A reply can hold a 2 MiB path or
 * thousands of refusals; echoes are bounded here, with what was left out said.
 */

/** The most characters of a model-supplied name or quote that are echoed. */
export const ECHO_CHARS = 200;
/** The most characters of a model-supplied reason that are echoed (it is prose, read by people). */
export const REASON_CHARS = 1000;
/** The most entries of a model-caused list (refusals, notes, quotes) that are echoed. */
export const ECHO_ITEMS = 20;

const CUT_MARK = /… \((\d+) more characters\)$/;

/**
 * The text, or its first `max` characters and how many more there were. Cutting a text cut
 * before counts what the first cut left out too.
 */
export function cutEcho(text: string, max = ECHO_CHARS): string {
  if (text.length <= max) return text;
  const mark = CUT_MARK.exec(text);
  const body = mark ? text.slice(0, mark.index) : text;
  const before = mark ? Number(mark[1]) : 0;
  let end = Math.min(max, body.length);
  // Never end on half of a surrogate pair.
  const last = body.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${body.slice(0, end)}… (${body.length - end + before} more characters)`;
}

/** The first `max` items, then one item made by `more` saying how many were left out. */
export function boundList<T>(items: readonly T[], more: (left: number) => T, max = ECHO_ITEMS): T[] {
  if (items.length <= max) return [...items];
  return [...items.slice(0, max), more(items.length - max)];
}

/** "a, b, c and 12 more": names, each cut, at most `max` of them. */
export function nameList(names: readonly string[], max: number): string {
  const shown = names.slice(0, max).map((n) => cutEcho(n));
  return names.length > max ? `${shown.join(", ")} and ${names.length - max} more` : shown.join(", ");
}

/** Text echoed on one line (a reason, a problem): each run of white space, newlines too, one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
