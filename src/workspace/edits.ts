/** What one search/replace edit does to a file's text: the new text, or why it cannot apply. */
export type EditOutcome = { ok: true; content: string; fuzzy: boolean } | { ok: false; reason: string };

/** Every start of `search` in `text`, overlapping ones too ("aa" occurs twice in "aaa"). */
function occurrences(text: string, search: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(search); at >= 0; at = text.indexOf(search, at + 1)) found.push(at);
  return found;
}

const times = (n: number) => (n === 1 ? "once" : n === 2 ? "twice" : `${n} times`);

/** A line without its end (\n or \r\n) and trailing blanks: what the fuzzy match compares. */
const loose = (line: string) => line.replace(/\r?\n$/, "").trimEnd();

/**
 * Where `search` matches `text` as whole lines when trailing whitespace and line endings
 * (CRLF against LF) are ignored: models copy a file's lines but rarely its invisible ends.
 */
function looseMatches(text: string, search: string): Array<{ start: number; end: number; crlf: boolean }> {
  const wanted = search.replace(/\r\n/g, "\n");
  const withEnd = wanted.endsWith("\n");
  const want = (withEnd ? wanted.slice(0, -1) : wanted).split("\n").map(loose);
  const lines = text.split(/(?<=\n)/);
  const starts: number[] = [];
  let offset = 0;
  for (const line of lines) {
    starts.push(offset);
    offset += line.length;
  }
  const found: Array<{ start: number; end: number; crlf: boolean }> = [];
  for (let i = 0; i + want.length <= lines.length; i++) {
    if (!want.every((w, j) => loose(lines[i + j] ?? "") === w)) continue;
    const last = lines[i + want.length - 1] ?? "";
    const lineEnd = /\r?\n$/.exec(last)?.[0] ?? "";
    const end = (starts[i + want.length - 1] ?? 0) + last.length - (withEnd ? 0 : lineEnd.length);
    found.push({ start: starts[i] ?? 0, end, crlf: (lines[i] ?? "").endsWith("\r\n") });
  }
  return found;
}

/**
 * Applies one edit to a file's text. `search` must occur exactly once. When it occurs nowhere
 * as written, it may still match once as whole lines with trailing whitespace and line endings
 * ignored; then that match is replaced (in the file's line ending) and `fuzzy` is true. A loose
 * match that is not unique is refused like an exact one: azlon never guesses between places.
 */
export function applyEdit(text: string, search: string, replace: string): EditOutcome {
  if (search === "") return { ok: false, reason: "the search text is empty" };
  const exact = occurrences(text, search);
  const [at] = exact;
  if (exact.length === 1 && at !== undefined) {
    // Sliced, not String.replace: "$&" or "$1" in the replacement is text, not a pattern.
    return { ok: true, content: text.slice(0, at) + replace + text.slice(at + search.length), fuzzy: false };
  }
  if (exact.length > 1) {
    return {
      ok: false,
      reason: `the search text occurs ${times(exact.length)} in the file; it must occur exactly once (include more of the lines around it)`,
    };
  }
  const relaxed = looseMatches(text, search);
  const [match] = relaxed;
  if (relaxed.length === 1 && match) {
    const replacement = match.crlf ? replace.replace(/\r?\n/g, "\r\n") : replace;
    return {
      ok: true,
      content: text.slice(0, match.start) + replacement + text.slice(match.end),
      fuzzy: true,
    };
  }
  const alsoLoose =
    relaxed.length > 1
      ? ` (it matches ${times(relaxed.length)} when trailing whitespace and line endings are ignored)`
      : "";
  return {
    ok: false,
    reason: `the search text occurs 0 times in the file${alsoLoose}; it must occur exactly once: copy it from the file as it is now, or send the whole file in files`,
  };
}
