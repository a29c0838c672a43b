// A line diff shared by the page (loaded as-is by the browser) and `azlon report` (bundled):
// plain JavaScript with no imports, so the page needs no build step. Types in diff.d.ts.

/** Past this many LCS cells (lines before x lines after, once the common ends are cut) no diff is drawn. */
export const MAX_DIFF_CELLS = 4_000_000;

/** Splits text into lines; a final newline does not make an empty last line. */
export function splitLines(text) {
  if (text === null || text === undefined || text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/**
 * The lines of `after` against `before`, each marked " " (both), "-" (only before) or "+"
 * (only after), from a longest common subsequence. Common head and tail lines are cut first, so
 * a small edit to a long file stays cheap; when what remains is still too big, `tooLarge` is
 * true and `ops` is empty.
 */
export function lineDiff(before, after, maxCells = MAX_DIFF_CELLS) {
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  if (midA.length * midB.length > maxCells) return { ops: [], tooLarge: true };
  const ops = [];
  for (const line of a.slice(0, head)) ops.push({ op: " ", text: line });
  ops.push(...lcsOps(midA, midB));
  for (const line of a.slice(a.length - tail)) ops.push({ op: " ", text: line });
  return { ops, tooLarge: false };
}

function lcsOps(a, b) {
  const n = a.length;
  const m = b.length;
  const width = m + 1;
  // lengths[i * width + j]: the LCS length of a[i..] and b[j..].
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * width + j] =
        a[i] === b[j]
          ? lengths[(i + 1) * width + j + 1] + 1
          : Math.max(lengths[(i + 1) * width + j], lengths[i * width + j + 1]);
    }
  }
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ op: " ", text: a[i] });
      i++;
      j++;
    } else if (lengths[(i + 1) * width + j] >= lengths[i * width + j + 1]) {
      ops.push({ op: "-", text: a[i] });
      i++;
    } else {
      ops.push({ op: "+", text: b[j] });
      j++;
    }
  }
  for (; i < n; i++) ops.push({ op: "-", text: a[i] });
  for (; j < m; j++) ops.push({ op: "+", text: b[j] });
  return ops;
}

/**
 * The diff as it is shown: changed lines with `context` unchanged lines around them; longer
 * unchanged stretches become one { op: "skip", count } row. At most `maxRows` rows; the rest
 * is counted in one last skip row.
 */
export function diffRows(ops, context = 3, maxRows = 2000) {
  const keep = new Array(ops.length).fill(false);
  ops.forEach((row, index) => {
    if (row.op === " ") return;
    for (let k = Math.max(0, index - context); k <= Math.min(ops.length - 1, index + context); k++)
      keep[k] = true;
  });
  const rows = [];
  let skipped = 0;
  ops.forEach((row, index) => {
    if (keep[index]) {
      if (skipped) rows.push({ op: "skip", count: skipped });
      skipped = 0;
      rows.push(row);
    } else skipped++;
  });
  if (skipped) rows.push({ op: "skip", count: skipped });
  if (rows.length <= maxRows) return rows;
  const cut = rows.slice(0, maxRows);
  const rest = rows.slice(maxRows).reduce((sum, row) => sum + (row.op === "skip" ? row.count : 1), 0);
  cut.push({ op: "skip", count: rest });
  return cut;
}

/** How many lines a diff adds and removes. */
export function diffStats(ops) {
  let added = 0;
  let removed = 0;
  for (const row of ops) {
    if (row.op === "+") added++;
    else if (row.op === "-") removed++;
  }
  return { added, removed };
}

/**
 * One file's change as the page and the report draw it: what happened to the file, a note in
 * place of the rows when there is no diff to show, how many lines it adds and removes, and the
 * rows with the class each is drawn with.
 */
export function fileDiff(change) {
  const what =
    change.before === null && change.after !== null
      ? "created"
      : change.after === null && change.before !== null
        ? "deleted"
        : "changed";
  const none = (note) => ({ what, note, added: 0, removed: 0, rows: [] });
  if (change.truncated) return none("too large to show");
  const { ops, tooLarge } = lineDiff(change.before, change.after);
  if (tooLarge) return none("too many changed lines to compare");
  const { added, removed } = diffStats(ops);
  const rows = diffRows(ops).map((row) =>
    row.op === "skip"
      ? { cls: "skip", text: `… ${row.count} unchanged line${row.count === 1 ? "" : "s"}` }
      : { cls: row.op === "+" ? "add" : row.op === "-" ? "del" : "same", text: `${row.op} ${row.text}` },
  );
  return { what, note: null, added, removed, rows };
}

/**
 * A git patch (changes.patch) as the page and the report draw it: one entry per file, its path
 * and its rows, each with the class it is drawn with (binary changes as one note row).
 */
export function patchFiles(text) {
  const files = [];
  let file = null;
  for (const line of splitLines(text)) {
    const head = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
    if (head) {
      file = { path: head[2], what: "changed", rows: [] };
      files.push(file);
      continue;
    }
    if (!file) continue;
    if (/^new file mode/.test(line)) file.what = "created";
    else if (/^deleted file mode/.test(line)) file.what = "deleted";
    else if (/^(old|new) mode/.test(line)) file.rows.push({ cls: "skip", text: line });
    else if (line === "GIT binary patch") file.rows.push({ cls: "skip", text: "binary file changed" });
    else if (/^(literal|delta) \d+$/.test(line) || /^(index |--- |\+\+\+ )/.test(line)) continue;
    else if (line.startsWith("@@")) file.rows.push({ cls: "skip", text: line });
    else if (line.startsWith("+")) file.rows.push({ cls: "add", text: line });
    else if (line.startsWith("-")) file.rows.push({ cls: "del", text: line });
    else if (line.startsWith(" ")) file.rows.push({ cls: "same", text: line });
    // The lines of a binary patch (base85) are not drawn.
  }
  return files;
}
