// One round's results in short phrases, for the page and for `azlon report` alike (plain ES
// module: the browser loads it, the report imports it). Each caller formats numbers its way.

/**
 * @param {any} s a round's summary from run.json
 * @param {{ duration: (ms: number) => string, bytes: (n: number) => string, count: (n: number) => string }} f
 * @returns {string[]}
 */
export function phaseParts(s, f) {
  const parts = [];
  if (s.changes) {
    const refused = s.changes.refused?.length ? `, ${s.changes.refused.length} refused` : "";
    parts.push(`files: ${s.changes.written.length} written, ${s.changes.deleted.length} deleted${refused}`);
  }
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
