import { boundList, cutEcho } from "../util/echo.js";
import { stripEscapes } from "../util/terminal.js";

/** The shortest part of a line that counts as a quote of it. */
export const MIN_PARTIAL_QUOTE = 12;

export interface EvidenceCheck {
  /** Quotes (or lines of multi-line quotes) that do not occur in the output. */
  missing: string[];
  /** What to tell the judge, or null when the evidence holds. */
  problem: string | null;
}

/**
 * Checks that each quoted line occurs in the output, ignoring surrounding whitespace: a quote
 * must be a whole line of the output, or a part of one line at least MIN_PARTIAL_QUOTE long.
 * A quote of several lines is checked line by line.
 */
export function checkEvidence(evidence: readonly string[], output: string): EvidenceCheck {
  const lines = stripEscapes(output)
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const quotes = evidence.flatMap((q) =>
    stripEscapes(q)
      .split(/\r?\n|\r/)
      .map((l) => l.trim())
      .filter((l) => l !== ""),
  );
  if (quotes.length === 0) {
    return {
      missing: [],
      problem:
        'A pass must be proven: "evidence" must quote, exactly, the lines the program or a check printed that show the test conditions hold. ' +
        "Judge again; if the output does not show them, the verdict is not passed.",
    };
  }
  // A quote is a whole line, or a part of one long enough to mean something: a bare "5" or
  // "PASS" occurs in many outputs that do not prove anything.
  const found = (q: string) =>
    lines.some((line) => line === q || (q.length >= MIN_PARTIAL_QUOTE && line.includes(q)));
  const missing = quotes.filter((q) => !found(q));
  if (!missing.length) return { missing, problem: null };
  return {
    missing,
    problem:
      `These quotes from your evidence are not lines the program or a check printed:\n${boundList(
        missing.map((m) => `- ${JSON.stringify(cutEcho(m))}`),
        (left) => `(and ${left} more)`,
      ).join("\n")}\n` +
      "A pass must quote whole lines from the fenced output blocks, as printed; azlon's headings and notes are not output. " +
      "Judge again: quote the real lines, or, if the output does not show that every condition holds, answer passed: false with a fix.",
  };
}
