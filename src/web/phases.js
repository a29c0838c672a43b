// One round's results in short phrases, for the terminal, the page and `azlon report` alike
// (plain ES module: the browser loads it, the CLI and the report import it). Each caller
// formats numbers its way.

/**
 * How many files a round's apply step wrote: its files, and the Dockerfile when it changed (a
 * file of the project like any other, whose diff the page and the report show).
 * @param {{ written: string[], dockerfileChanged?: boolean }} changes
 * @returns {number}
 */
export function filesWritten(changes) {
  return changes.written.length + (changes.dockerfileChanged ? 1 : 0);
}

/**
 * A round's changes in a few words: "2 files written, 1 deleted, 1 refused".
 * @param {{ written: string[], deleted: string[], refused?: unknown[], dockerfileChanged?: boolean }} changes
 * @returns {string}
 */
export function changesText(changes) {
  const n = filesWritten(changes);
  const refused = changes.refused?.length ? `, ${changes.refused.length} refused` : "";
  const deleted = changes.deleted.length ? `, ${changes.deleted.length} deleted` : "";
  return `${n} file${n === 1 ? "" : "s"} written${deleted}${refused}`;
}

/**
 * @param {any} s a round's summary from run.json
 * @param {{ duration: (ms: number) => string, bytes: (n: number) => string, count: (n: number) => string }} f
 * @returns {string[]}
 */
export function phaseParts(s, f) {
  const parts = [];
  if (s.changes) parts.push(changesText(s.changes));
  if (s.reusedFrom !== undefined) parts.push(`nothing changed: round ${s.reusedFrom}'s result reused`);
  if (s.build)
    parts.push(
      `build: ${s.build.ok ? "ok" : s.build.timedOut ? "timed out" : "failed"} (${f.duration(s.build.durationMs)})${s.build.cause ? `: ${s.build.cause}` : ""}`,
    );
  if (s.exec) {
    const how = s.exec.timedOut
      ? "timed out"
      : s.exec.oomKilled
        ? "out of memory"
        : s.exec.signal
          ? `killed by ${s.exec.signal}`
          : `exit ${s.exec.exitCode}`;
    parts.push(`run: ${how} (${f.duration(s.exec.durationMs)}, ${f.bytes(s.exec.outputBytes ?? 0)})`);
  }
  if (s.checks) parts.push(`checks: ${s.checks.passed}/${s.checks.total} passed`);
  if (s.usage)
    parts.push(`tokens: ${f.count(s.usage.promptTokens)} in, ${f.count(s.usage.completionTokens)} out`);
  return parts;
}
