/**
 * The benchmark's edit figure: the output a judge spends on a one-line fix in a 40 KB file,
 * as one edit against as the whole file again. No tokenizer here: tokens are estimated as the
 * reply JSON's bytes / 4 (the usual rule of thumb for English and code). Both replies are
 * estimated alike, so the ratio holds better than either count.
 */
import { applyEdit } from "../src/workspace/edits.js";

const TARGET_BYTES = 40 * 1024;

/** A plausible Python module of about 40 KB: many small functions, one with a bug. */
function bigModule(): { text: string; bad: string; good: string } {
  const bad = "    return total - item.price * item.quantity";
  const good = "    return total + item.price * item.quantity";
  const parts: string[] = ['"""Inventory and order helpers."""\n\nfrom dataclasses import dataclass\n\n'];
  for (let i = 0; Buffer.byteLength(parts.join("")) < TARGET_BYTES; i++) {
    parts.push(
      `def helper_${i}(values, factor=${(i % 7) + 1}):\n` +
        `    """Scales every value by ${(i % 7) + 1} and drops the negative ones (helper ${i})."""\n` +
        "    result = []\n" +
        "    for value in values:\n" +
        "        scaled = value * factor\n" +
        "        if scaled >= 0:\n" +
        "            result.append(scaled)\n" +
        "    return result\n\n\n",
    );
    if (i === 120) parts.push(`def add_line(total, item):\n${bad}\n\n\n`);
  }
  return { text: parts.join(""), bad, good };
}

/** The verdict a judge sends to fix it, in both shapes, and what each costs. */
export function editFigure(): { wholeBytes: number; editBytes: number; fileBytes: number } {
  const { text, bad, good } = bigModule();
  const fixed = text.replace(bad, good);
  const verdict = {
    passed: false,
    reason: "add_line subtracts the line's price instead of adding it: total=-30 where 30 is expected",
    evidence: ["CHECK order total == 30: FAIL (got -30)"],
    dockerfile: null,
    delete: null,
  };
  const whole = { ...verdict, files: [{ path: "inventory.py", content: fixed }], edits: null };
  const edit = { path: "inventory.py", search: bad, replace: good };
  const edited = { ...verdict, files: null, edits: [edit] };
  // The figure counts only if the edit really yields the whole file's content.
  const outcome = applyEdit(text, edit.search, edit.replace);
  if (!outcome.ok || outcome.content !== fixed) throw new Error("bench: the edit does not reproduce the fix");
  return {
    wholeBytes: Buffer.byteLength(JSON.stringify(whole)),
    editBytes: Buffer.byteLength(JSON.stringify(edited)),
    fileBytes: Buffer.byteLength(text),
  };
}

/** Tokens as estimated for the figure: bytes / 4, rounded up. */
export const estimateTokens = (bytes: number) => Math.ceil(bytes / 4);
