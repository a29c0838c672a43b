import { xml } from "../ci/junit.js";
import type { Result } from "../engine/result.js";
import { formatCount, formatDuration } from "../util/format.js";
import type { BatchFile, TaskStatus, Totals } from "./schema.js";

const ICON: Record<TaskStatus, string> = {
  passed: "✅",
  failed: "❌",
  error: "⚠️",
  interrupted: "⏹️",
  pending: "…",
};

/**
 * Text from a model or a task in a markdown cell: one line, bounded, and inert (no HTML, no
 * links or emphasis), since the step summary renders what it is given.
 */
function inert(text: string, max = 160): string {
  const one = text.replace(/\s+/g, " ").trim();
  const cut = one.length > max ? `${one.slice(0, max)}…` : one;
  return cut
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/([[\]`*_!~#:])/g, "\\$1");
}

export function costText(costUsd: number | null): string {
  return costUsd === null ? "unknown" : `$${costUsd.toFixed(4)}`;
}

function resultsOf(task: BatchFile["tasks"][number]): Result[] {
  return task.attempts.map((a) => a.result).filter((r): r is Result => r !== null);
}

/** The totals as lines "what | value", for summary.md, the step summary and the terminal. */
export function totalsRows(totals: Totals, k: number): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    [
      "tasks",
      `${totals.tasks} (${totals.passed} passed, ${totals.failed} failed, ${totals.error} error${
        totals.tasks - totals.passed - totals.failed - totals.error > 0
          ? `, ${totals.tasks - totals.passed - totals.failed - totals.error} not finished`
          : ""
      })`,
    ],
    ["pass@1", totals.passAt1.toFixed(3)],
  ];
  if (k > 1) rows.push([`pass@${k}`, totals.passAtK.toFixed(3)]);
  rows.push(
    ["tokens", formatCount(totals.tokens)],
    ["cost", costText(totals.costUsd)],
    ["time", formatDuration(totals.durationMs)],
  );
  return rows;
}

/** The most task rows a summary shows (GitHub caps a step summary at 1 MiB). */
const MAX_ROWS = 500;

/** summary.md, and what the GitHub step summary gets. */
export function summaryMarkdown(file: BatchFile, batchDir: string): string {
  const { totals } = file;
  const lines = [
    `### azlon batch: ${totals.passed} of ${totals.tasks} task${totals.tasks === 1 ? "" : "s"} passed${file.options.oracle ? " (oracle: the reference solutions)" : ""}`,
    "",
    "| | |",
    "|---|---|",
    ...totalsRows(totals, file.options.attempts).map(([k, v]) => `| ${k} | ${v} |`),
    `| batch folder | \`${inert(batchDir, 300).replace(/\\`/g, "")}\` |`,
  ];
  if (file.stopReason) lines.push(`| stopped | ${file.stopReason} |`);
  lines.push(
    "",
    "| task | status | attempts passed | iterations | tokens | cost | reason |",
    "|---|---|---|---|---|---|---|",
  );
  for (const task of file.tasks.slice(0, MAX_ROWS)) {
    const results = resultsOf(task);
    const passed = results.filter((r) => r.status === "passed").length;
    const tokens = results.reduce((s, r) => s + r.usage.promptTokens + r.usage.completionTokens, 0);
    const cost = results.some((r) => r.costUsd === null && r.usage.promptTokens > 0)
      ? null
      : results.reduce((s, r) => s + (r.costUsd ?? 0), 0);
    const last = results.at(-1);
    lines.push(
      `| ${inert(task.id, 100)} | ${ICON[task.status]} ${task.status} | ${passed}/${task.attempts.length} | ${results.map((r) => r.iterations).join(", ") || "-"} | ${formatCount(tokens)} | ${costText(cost)} | ${inert(last?.reason ?? "")} |`,
    );
  }
  if (file.tasks.length > MAX_ROWS)
    lines.push("", `…and ${file.tasks.length - MAX_ROWS} more tasks (batch.json has them all).`);
  return `${lines.join("\n")}\n\n`;
}

/** JUnit XML of a batch: a testcase per task attempt, in a testsuite per batch. */
export function batchJunit(file: BatchFile): string {
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  let timeMs = 0;
  for (const task of file.tasks) {
    for (const attempt of task.attempts) {
      const r = attempt.result;
      timeMs += r?.durationMs ?? 0;
      const name = xml(`${task.id} (attempt ${attempt.attempt})`);
      const open = `    <testcase classname="azlon.batch" name="${name}" time="${((r?.durationMs ?? 0) / 1000).toFixed(3)}"`;
      const out = r
        ? `      <system-out>${xml(`status: ${r.status} (${r.stopReason}) after ${r.iterations} iteration(s)\n${r.reason ?? ""}\nrun folder: ${r.runDir ?? "-"}`)}</system-out>`
        : "";
      let inner = "";
      if (!r || r.status === "interrupted") {
        skipped++;
        inner = `      <skipped message="${xml(r ? "interrupted: it resumes when the batch runs again" : "not run")}"/>`;
      } else if (r.status === "failed") {
        failures++;
        inner = `      <failure message="${xml(r.reason ?? r.stopReason)}"/>`;
      } else if (r.status === "error") {
        errors++;
        inner = `      <error message="${xml(r.reason ?? "error")}"/>`;
      }
      const body = [inner, out].filter(Boolean);
      cases.push(body.length ? `${open}>\n${body.join("\n")}\n    </testcase>` : `${open}/>`);
    }
  }
  const counts = `tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${(timeMs / 1000).toFixed(3)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="azlon batch" ${counts}>`,
    `  <testsuite name="${xml(`azlon batch ${file.batchId}`)}" ${counts}>`,
    ...cases,
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
