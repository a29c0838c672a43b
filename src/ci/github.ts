import type { Result } from "../engine/result.js";
import { cutEcho, oneLine } from "../util/echo.js";
import { formatCount, formatDuration } from "../util/format.js";
import { forTerminal, stripControls } from "../util/terminal.js";
import { costText } from "../web/phases.js";

/**
 * ASCII punctuation: what starts markdown and HTML (an image, a link, a tag, an entity,
 * emphasis, a table cell, an autolink's `://` or `www.`), and what CommonMark lets a
 * backslash make plain.
 */
const MARKDOWN_PUNCTUATION = /[!-/:-@[-`{-~]/g;

/**
 * Text from the model or a program (a reason, a quote, a check's problem) in the step summary:
 * one line, bounded, every punctuation character escaped, so the job page shows it as text and
 * never as a live image, link, tag or table cell of its own.
 */
export function text(value: string, max = 200): string {
  return cutEcho(oneLine(forTerminal(value)), max).replace(MARKDOWN_PUNCTUATION, "\\$&");
}

function code(value: string, max = 120): string {
  return `<code>${text(value, max)}</code>`;
}

const ICON: Record<Result["status"], string> = {
  passed: "✅",
  failed: "❌",
  error: "⚠️",
  interrupted: "⏹️",
};

/** The markdown appended to $GITHUB_STEP_SUMMARY: status, checks, evidence, tokens, cost, folder. */
export function stepSummary(result: Result): string {
  const used = result.usage.promptTokens + result.usage.completionTokens;
  const lines = [
    `### ${ICON[result.status]} azlon: ${result.status} after ${result.iterations} iteration${result.iterations === 1 ? "" : "s"}`,
    "",
    "| | |",
    "|---|---|",
    `| status | ${result.status} (${result.stopReason}) |`,
    `| reason | ${text(result.reason ?? "")} |`,
    `| verdict by | ${result.verdict ?? "-"} |`,
    `| tokens | ${formatCount(used)} (${formatCount(result.usage.cachedTokens)} cached) |`,
    `| cost | ${costText(result.costUsd)} |`,
    `| time | ${formatDuration(result.durationMs)} |`,
    `| run folder | ${code(result.runDir ?? "-", 300)} |`,
    `| image | ${result.image ? code(result.image, 300) : "-"} |`,
  ];
  if (result.checks) {
    lines.push("", `#### Checks: ${result.checks.passed} of ${result.checks.total} passed`, "");
    if (result.checks.serviceReady === false) lines.push("The service never became ready.", "");
    lines.push("| check | result | exit code | time |", "|---|---|---|---|");
    for (const r of result.checks.results) {
      lines.push(
        `| ${code(r.command)} | ${r.passed ? "✅ passed" : `❌ ${text(r.problem ?? "failed", 80)}`} | ${r.exitCode ?? "-"} | ${formatDuration(r.durationMs)} |`,
      );
    }
  }
  if (result.evidence.length) {
    lines.push("", "#### Evidence", "");
    for (const line of result.evidence.slice(0, 20)) lines.push(`- ${code(line, 300)}`);
  }
  if (result.rejectedEvidence.length) {
    lines.push("", "#### The judge's last quotes (no proof of a pass)", "");
    for (const line of result.rejectedEvidence.slice(0, 20)) lines.push(`- ${code(line, 300)}`);
  }
  return `${lines.join("\n")}\n\n`;
}

/**
 * A workflow command's message: GitHub's own escaping (%, CR, LF) keeps it on its line; no
 * escape sequences reach the log.
 */
function escapeData(value: string): string {
  return stripControls(value).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** `::error` / `::notice` annotations for the run's outcome and each failing check. */
export function annotations(result: Result): string[] {
  const out: string[] = [];
  const where = result.runDir ? ` (run folder ${result.runDir})` : "";
  if (result.status === "passed") {
    out.push(`::notice title=azlon passed::${escapeData(`${result.reason ?? "passed"}${where}`)}`);
  } else {
    out.push(
      `::error title=azlon ${result.status}::${escapeData(`${result.reason ?? result.stopReason}${where}`)}`,
    );
  }
  for (const r of result.checks?.results ?? []) {
    if (!r.passed)
      out.push(`::error title=azlon check failed::${escapeData(`${r.command}: ${r.problem ?? "failed"}`)}`);
  }
  return out;
}
