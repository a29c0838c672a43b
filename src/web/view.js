// How a run's parts look on the page: rounds, verdicts, checks, diffs and journal events, from the API's JSON.
import { fileDiff, patchFiles } from "./diff.js";
import { count, h, ms } from "./dom.js";
import { changesText, phaseParts } from "./phases.js";

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
  const parts = phaseParts(s, { duration: ms, bytes: (n) => `${count(n)} B`, count });
  return h(
    "div",
    { class: "phases" },
    parts.map((p) => h("span", {}, p)),
  );
}

export function roundBody(detail) {
  const parts = [phaseLine(detail.summary ?? {})];
  const v = detail.verdict;
  if (v) {
    const word = v.accepted ? "pass accepted" : v.passed ? "pass claimed, not accepted" : "not passed";
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
  parts.push(h("h3", {}, "Output"), h("pre", {}, detail.outputTail || "(nothing printed yet)"));
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
      return `model endpoint: ${e.status ?? "no answer"}${e.error ? ` (${e.error})` : ""}${e.retryInMs ? `, again in ${ms(e.retryInMs)}` : ""}`;
    case "model.fallback":
      return `structured output: ${e.from} → ${e.to} (${e.reason})`;
    case "changes.applied":
      return changesText(e);
    case "build.finished":
      return `build ${e.ok ? "ok" : e.timedOut ? "timed out" : "failed"} (${ms(e.durationMs)})${e.cause ? `: ${e.cause}` : ""}`;
    case "exec.finished":
      return `run: exit ${e.exitCode}${e.timedOut ? " (timed out)" : ""} (${ms(e.durationMs)})`;
    case "execute.reused":
      return `round ${e.iteration}: nothing changed, so round ${e.from}'s result is reused (not built or run again)`;
    case "checks.finished":
      return `checks: ${e.results.filter((r) => r.passed).length}/${e.results.length} passed`;
    case "verdict":
      return `verdict: ${e.accepted ? "pass accepted" : e.passed ? "pass not accepted" : "not passed"} — ${e.reason}`;
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
      return `finished: ${e.status} (${e.stopReason}) — ${e.reason}`;
    default:
      return e.type;
  }
}
