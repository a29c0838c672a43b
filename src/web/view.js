// How a run's parts look on the page: rounds, verdicts, checks, diffs and journal events, from the API's JSON.
import { fileDiff, patchFiles } from "./diff.js";
import { count, h } from "./dom.js";
import { formatDuration } from "./format.js";
import {
  buildText,
  changesText,
  checksText,
  costText,
  execText,
  outputNote,
  phaseParts,
  reusedText,
  roundOutcome,
  verdictText,
} from "./phases.js";

/** The line diff of one file's change, drawn as the report draws it. */
export function diffView(change) {
  const d = fileDiff(change);
  const head = h("div", { class: "diff-file" }, `${change.path} `, h("span", { class: "muted" }, d.what));
  if (d.note !== null) return h("div", { class: "diff" }, head, h("div", { class: "diff-row skip" }, d.note));
  head.append(
    " ",
    h("span", { class: "ok" }, `+${d.added}`),
    " ",
    h("span", { class: "bad" }, `−${d.removed}`),
  );
  return h(
    "div",
    { class: "diff" },
    head,
    d.rows.map((row) => h("div", { class: `diff-row ${row.cls}` }, row.text)),
  );
}

/** A run from the user's project: its change against the snapshot (changes.patch), file by file. */
export function changeView(change) {
  if (!change) return [];
  const files = patchFiles(change.text);
  return [
    h("h2", { id: "change" }, "Change to your project"),
    h("p", { class: "muted" }, `against the snapshot azlon started from; git apply takes ${change.path}`),
    files.length
      ? files.map((f) =>
          h(
            "div",
            { class: "diff" },
            h("div", { class: "diff-file" }, `${f.path} `, h("span", { class: "muted" }, f.what)),
            f.rows.map((row) => h("div", { class: `diff-row ${row.cls}` }, row.text)),
          ),
        )
      : h("p", { class: "muted" }, "no change"),
    change.truncated
      ? h("p", { class: "muted" }, `the patch is cut here; the whole is ${change.path}`)
      : null,
  ];
}

export function phaseLine(s) {
  const parts = phaseParts(s);
  return h(
    "div",
    { class: "phases" },
    parts.map((p) => h("span", {}, p)),
  );
}

/** A round's badge: its outcome in the words the terminal and the report use. */
export function roundMark(s) {
  const outcome = roundOutcome(s);
  return outcome
    ? h("span", { class: `status ${s.verdict?.accepted ? "passed" : "failed"}` }, outcome)
    : null;
}

export function roundBody(detail) {
  const parts = [phaseLine(detail.summary ?? {})];
  const v = detail.verdict;
  if (v) {
    const word = verdictText(v);
    parts.push(
      h("h3", {}, "Verdict ", h("span", { class: `verdict-word ${v.accepted ? "ok" : "bad"}` }, word)),
      h("p", {}, v.reason),
      v.evidence?.length
        ? h(
            "ul",
            { class: "evidence" },
            v.evidence.map((e) => h("li", {}, e)),
          )
        : null,
      ...(v.rejections ?? []).map((r) => h("p", { class: "warn" }, `rejected: ${r.problem}`)),
    );
  }
  if (detail.checks) {
    parts.push(
      h("h3", {}, "Checks"),
      detail.checks.service
        ? h(
            "p",
            { class: detail.checks.service.ready ? "ok" : "bad" },
            detail.checks.service.ready
              ? "service ready"
              : `service not ready: ${detail.checks.service.problem}`,
          )
        : null,
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["command", "result", "exit", "output"].map((t) => h("th", {}, t)),
          ),
        ),
        h(
          "tbody",
          {},
          detail.checks.results.map((c) =>
            h(
              "tr",
              {},
              h("td", { class: "mono" }, c.command),
              h("td", { class: c.passed ? "ok" : "bad" }, c.passed ? "passed" : (c.problem ?? "failed")),
              h("td", {}, c.exitCode ?? "—"),
              h("td", {}, c.output?.text ? h("pre", {}, c.output.text) : ""),
            ),
          ),
        ),
      ),
    );
  }
  // A round whose program did not run says so, rather than showing an empty output.
  const note = outputNote(detail.summary ?? {});
  parts.push(
    h("h3", {}, "Output"),
    note ? h("p", { class: "muted" }, note) : h("pre", {}, detail.outputTail || "(nothing printed yet)"),
  );
  if (detail.summary?.build && !detail.summary.build.ok)
    parts.push(h("h3", {}, "Build log"), h("pre", {}, detail.buildLogTail));
  if (detail.changes?.length) parts.push(h("h3", {}, "Changes"), detail.changes.map(diffView));
  return parts;
}

/** The journal's event types, each a named event of the run's stream (src/core/events.ts). */
export const EVENT_TYPES = [
  "run.started",
  "phase",
  "model.call",
  "model.http",
  "model.fallback",
  "changes.applied",
  "build.finished",
  "exec.finished",
  "execute.reused",
  "checks.finished",
  "verdict",
  "evidence.rejected",
  "source.snapshot",
  "files.read",
  "source.delivered",
  "warning",
  "run.finished",
];

/** One journal event as a line of the progress log. */
export function describeEvent(e) {
  switch (e.type) {
    case "run.started":
      return `${e.resumed ? "resumed" : "started"} at round ${e.iteration} of ${e.maxIterations} (${e.model})`;
    case "phase":
      return `round ${e.iteration}: ${e.phase}`;
    case "model.call":
      return `model (${e.purpose}): ${e.outcome}, ${count(e.usage?.promptTokens)} + ${count(e.usage?.completionTokens)} tokens`;
    case "model.http":
      return `model endpoint: ${e.status ?? "no answer"}${e.error ? ` (${e.error})` : ""}${e.retryInMs ? `, again in ${formatDuration(e.retryInMs)}` : ""}`;
    case "model.fallback":
      return `structured output: ${e.from} → ${e.to} (${e.reason})`;
    case "changes.applied":
      return changesText(e);
    case "build.finished":
      return buildText(e);
    case "exec.finished":
      return execText(e);
    case "execute.reused":
      return `round ${e.iteration}: ${reusedText(e.from)}`;
    case "checks.finished":
      return checksText(
        {
          passed: e.results.filter((r) => r.passed).length,
          total: e.results.length,
          serviceReady: e.service ? e.service.ready : null,
        },
        e.service?.problem,
      );
    case "verdict":
      return `verdict: ${verdictText(e)} — ${e.reason}`;
    case "evidence.rejected":
      return `evidence rejected: ${e.problem}`;
    case "source.snapshot":
      return `your project copied: ${e.files} files${e.commit ? ` at ${String(e.commit).slice(0, 12)}${e.dirty ? " (with uncommitted changes)" : ""}` : ""}`;
    case "files.read":
      return `round ${e.iteration}: read ${(e.shown ?? []).length} file(s) for the model${e.refused?.length ? `, ${e.refused.length} refused` : ""}`;
    case "source.delivered":
      return `change: ${(e.files ?? []).length} file(s) in changes.patch${e.branch ? `; branch ${e.branch}` : ""}${e.applied ? "; applied" : ""}${e.note ? ` (${e.note})` : ""}`;
    case "warning":
      return `warning: ${e.message}`;
    case "run.finished":
      return `finished: ${e.status} (${e.stopReason}) — ${e.reason}; cost ${costText(e.costUsd)}`;
    default:
      return e.type;
  }
}
