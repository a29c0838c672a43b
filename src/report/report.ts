import { iterationsRun } from "../core/state.js";
import type { ChecksReport } from "../core/types.js";
import { continueCommand } from "../engine/continue.js";
import { formatBytes, formatDuration } from "../util/format.js";
import { currentProcess, processAlive } from "../util/liveness.js";
import { fileDiff, patchFiles } from "../web/diff.js";
import { costText, outputNote, phaseParts, roundOutcome, tokensText, verdictText } from "../web/phases.js";
import { readRunEntry, runIsLive } from "../workspace/run-list.js";
import { readWebAsset } from "./assets.js";
import { el, esc, kv } from "./html.js";
import { type FileChange, type IterationView, type LogTail, type RunView, readRunView } from "./read.js";

export const REPORT_FILE = "report.html";

// No script, no network: the report is read as it is, in a CI artifact or an e-mail.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

function tail(title: string, log: LogTail | null): string {
  if (!log) return "";
  const cut = log.cutBytes
    ? ` — the last ${formatBytes(log.totalBytes - log.cutBytes)} of ${formatBytes(log.totalBytes)}`
    : "";
  const body = log.text === "" ? el("p", "(nothing printed)", "muted") : el("pre", log.text);
  return `<h3>${esc(title)}<span class="muted">${esc(cut)}</span></h3>${body}`;
}

/** The round's output; a round whose program did not run says so instead. */
function output(it: IterationView): string {
  const note = outputNote(it.summary);
  return note ? `<h3>Output</h3>${el("p", note, "muted")}` : tail("Output", it.outputTail);
}

function checksTable(report: ChecksReport): string {
  const service = report.service
    ? el(
        "p",
        report.service.ready ? "service ready" : `service not ready: ${report.service.problem ?? ""}`,
        report.service.ready ? "ok" : "bad",
      )
    : "";
  const rows = report.results
    .map(
      (c) =>
        `<tr><td class="mono">${esc(c.command)}</td><td class="${c.passed ? "ok" : "bad"}">${c.passed ? "passed" : esc(c.problem ?? "failed")}</td>` +
        `<td>${esc(c.exitCode ?? "—")}</td><td>${esc(formatDuration(c.durationMs))}</td>` +
        `<td>${c.output.text ? el("pre", c.output.text) : ""}</td></tr>`,
    )
    .join("");
  return `<h3>Checks</h3>${service}<table><thead><tr><th>command</th><th>result</th><th>exit</th><th>time</th><th>output</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** One file's change as a line diff (unchanged stretches folded). */
export function renderDiff(change: FileChange): string {
  const d = fileDiff(change);
  const counts =
    d.note === null ? ` <span class="ok">+${d.added}</span> <span class="bad">−${d.removed}</span>` : "";
  const head = `<div class="diff-file">${esc(change.path)} <span class="muted">${esc(d.what)}</span>${counts}</div>`;
  const rows =
    d.note === null
      ? d.rows.map((row) => `<div class="diff-row ${row.cls}">${esc(row.text)}</div>`).join("")
      : `<div class="diff-row skip">${esc(d.note)}</div>`;
  return `<div class="diff">${head}${rows}</div>`;
}

function phases(it: IterationView): string {
  const parts = phaseParts(it.summary);
  return `<div class="phases">${parts.map((p) => el("span", p)).join("")}</div>`;
}

function verdictBlock(it: IterationView): string {
  const v = it.verdict;
  if (!v) return it.summary.verdict ? `<h3>Verdict</h3>${el("p", it.summary.verdict.reason)}` : "";
  const word = verdictText(v);
  const evidence = v.evidence.length
    ? `<ul class="evidence">${v.evidence.map((e) => el("li", e)).join("")}</ul>`
    : "";
  const rejections = v.rejections
    .map((r) =>
      el(
        "p",
        `rejected: ${r.problem}${r.missing.length ? ` (not found: ${r.missing.join(" | ")})` : ""}`,
        "warn",
      ),
    )
    .join("");
  return `<h3>Verdict <span class="${v.accepted ? "ok" : "bad"}">${esc(word)}</span>${v.decidedBy ? ` <span class="muted">decided by ${esc(v.decidedBy)}</span>` : ""}</h3>${el("p", v.reason)}${evidence}${rejections}`;
}

function iterationBlock(it: IterationView, last: boolean): string {
  const s = it.summary;
  const outcome = roundOutcome(s);
  const mark = outcome ? el("span", outcome, `status ${s.verdict?.accepted ? "passed" : "failed"}`) : "";
  const changes = it.changes?.length ? `<h3>Changes</h3>${it.changes.map(renderDiff).join("")}` : "";
  const buildLog = s.build && !s.build.ok ? tail("Build log", it.buildLogTail) : "";
  return (
    `<details id="round-${it.iteration}"${last ? " open" : ""}><summary><span class="round-head">Round ${it.iteration} ${mark}</span></summary>` +
    phases(it) +
    verdictBlock(it) +
    (it.checks ? checksTable(it.checks) : "") +
    output(it) +
    buildLog +
    changes +
    "</details>"
  );
}

function filesBlock(view: RunView): string {
  const files = view.files
    .map(
      (f) =>
        `<details><summary class="mono">${esc(f.path)} <span class="muted">${esc(formatBytes(f.bytes))}</span></summary>${f.text === null ? el("p", "binary or too large to show", "muted") : el("pre", f.text)}</details>`,
    )
    .join("");
  const left = view.filesLeftOut
    ? el("p", `${view.filesLeftOut} more file(s) left out: the report shows at most 2 MiB of files`, "muted")
    : "";
  return `<h2 id="files">Workspace files</h2>${files || el("p", "no files yet", "muted")}${left}`;
}

/** A run from the user's project: its change against the snapshot, file by file (changes.patch). */
function changeBlock(view: RunView): string {
  const change = view.change;
  if (!change) return "";
  const files = patchFiles(change.text);
  const cut = change.truncated
    ? el(
        "p",
        `the first ${formatBytes(change.text.length)} of ${formatBytes(change.bytes)}; the whole patch is ${change.path}`,
        "muted",
      )
    : "";
  const body = files
    .map(
      (f) =>
        `<div class="diff"><div class="diff-file">${esc(f.path)} <span class="muted">${esc(f.what)}</span></div>` +
        f.rows.map((row) => `<div class="diff-row ${row.cls}">${esc(row.text)}</div>`).join("") +
        "</div>",
    )
    .join("");
  return `<h2 id="change">Change to your project</h2>${el("p", `against the snapshot azlon started from; git apply takes ${change.path}`, "muted")}${body || el("p", "no change", "muted")}${cut}`;
}

/** Whether a process drives the run now (run.json says running also for a run whose process died). */
function runIsGoingOn(dir: string): boolean {
  return runIsLive(readRunEntry(dir, ""), currentProcess().host, processAlive);
}

/** The run view's body: shared by `azlon report`; the page draws the same parts with the DOM. */
export function renderRunBody(view: RunView): string {
  const { state } = view;
  const o = state.options;
  const usage = state.usage;
  // A run that stopped short says how to carry it on, as the terminal does; one going on does not.
  const stoppedShort = state.status !== "passed" && (state.status !== "running" || !runIsGoingOn(view.dir));
  const carryOn = stoppedShort ? continueCommand(state, view.dir) : undefined;
  const head =
    `<h1>Run ${el("span", state.runId, "mono")} ${el("span", state.status, `status ${state.status}`)}</h1>` +
    (state.reason ? el("p", state.reason) : "") +
    kv([
      ["stop reason", state.stopReason ?? "—"],
      ["iterations", `${iterationsRun(state)} of ${o.maxIterations}`],
      ["model", o.model],
      ["image", state.image ?? "—"],
      ["tokens", tokensText(usage)],
      ["cost", costText(state.costUsd)],
      ["time", formatDuration(state.elapsedMs)],
      ["started", state.createdAt],
      ["last active", state.updatedAt],
      ["folder", view.dir],
      ["continue", carryOn],
    ]);
  const checks = o.checks?.commands.length
    ? `<h3>Checks</h3><ul>${o.checks.commands.map((c) => el("li", c, "mono")).join("")}</ul>`
    : "";
  const task = `<h2>Task</h2><h3>Prompt</h3>${el("pre", state.input.prompt)}<h3>Tests</h3>${el("pre", state.input.tests)}${checks}`;
  const rounds = view.iterations
    .map((it, i) => iterationBlock(it, i === view.iterations.length - 1))
    .join("");
  return `${head}${task}${changeBlock(view)}<h2 id="rounds">Rounds</h2>${rounds || el("p", "no rounds yet", "muted")}${filesBlock(view)}`;
}

/** The whole report: one HTML file with its CSS inline, no script and no network. */
export function renderReport(runDir: string): string {
  const view = readRunView(runDir);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>azlon run ${esc(view.state.runId)} — ${esc(view.state.status)}</title>
<style>${readWebAsset("style.css")}</style></head>
<body><a class="skip-link" href="#main">Skip to the run</a>
<header class="bar"><div class="bar-inner"><span class="brand">azlon report</span><a href="#rounds">Rounds</a><a href="#files">Files</a></div></header>
<main id="main">${renderRunBody(view)}</main></body></html>
`;
}
