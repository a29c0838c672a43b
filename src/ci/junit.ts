import type { Result } from "../engine/result.js";

/** The tail of a check's output kept in a JUnit failure: enough to read, small enough to keep. */
const OUTPUT_TAIL_CHARS = 4000;

/** XML 1.0 cannot hold most control characters at all, even escaped: they are dropped. */
export function xml(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what XML cannot hold
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
  );
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function tail(text: string): string {
  return text.length > OUTPUT_TAIL_CHARS ? `[...]\n${text.slice(-OUTPUT_TAIL_CHARS)}` : text;
}

interface Case {
  classname: string;
  name: string;
  timeMs: number;
  outcome: { kind: "pass" } | { kind: "failure" | "error" | "skipped"; message: string; body?: string };
  out?: string;
}

function renderCase(c: Case): string {
  const open = `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="${seconds(c.timeMs)}"`;
  const inner: string[] = [];
  if (c.outcome.kind !== "pass") {
    const tag = c.outcome.kind;
    const body = c.outcome.body ? xml(c.outcome.body) : "";
    inner.push(`      <${tag} message="${xml(c.outcome.message)}"${body ? `>${body}</${tag}>` : "/>"}`);
  }
  if (c.out) inner.push(`      <system-out>${xml(c.out)}</system-out>`);
  return inner.length ? `${open}>\n${inner.join("\n")}\n    </testcase>` : `${open}/>`;
}

/**
 * JUnit XML of a run: one testcase per check (a failure carries its exit code and the tail of
 * its output) and one for the verdict. Written for every run, passed, failed or interrupted.
 */
export function junitXml(result: Result, checkOutputs: ReadonlyMap<string, string> = new Map()): string {
  const cases: Case[] = [];
  const stopped = result.status === "interrupted" || result.status === "error";
  const checks = result.checks;
  if (checks) {
    for (const r of checks.results) {
      const output = checkOutputs.get(r.command) ?? "";
      cases.push({
        classname: "azlon.checks",
        name: r.command,
        timeMs: r.durationMs,
        outcome: r.passed
          ? { kind: "pass" }
          : { kind: "failure", message: r.problem ?? "failed", body: tail(output) },
        ...(r.passed && output ? { out: tail(output) } : {}),
      });
    }
    // Checks that never ran in the last round (the build failed, or the run stopped first).
    for (let i = checks.results.length; i < checks.total; i++) {
      cases.push({
        classname: "azlon.checks",
        name: `check ${i + 1}`,
        timeMs: 0,
        outcome: {
          kind: stopped ? "skipped" : "error",
          message: "not run: the build failed or the run stopped",
        },
      });
    }
  }
  const verdictName =
    result.verdict === "checks" ? "verdict (the checks decide)" : "verdict (the judge's proven pass)";
  const reason = result.reason ?? "";
  const evidence = result.evidence.length
    ? `\nevidence:\n${result.evidence.join("\n")}`
    : result.rejectedEvidence.length
      ? `\nthe judge's last quotes (no proof of a pass):\n${result.rejectedEvidence.join("\n")}`
      : "";
  cases.push({
    classname: "azlon.verdict",
    name: verdictName,
    timeMs: result.durationMs,
    outcome:
      result.status === "passed"
        ? { kind: "pass" }
        : result.status === "failed"
          ? { kind: "failure", message: reason || result.stopReason, body: `${reason}${evidence}` }
          : { kind: "error", message: `${result.status}: ${reason || result.stopReason}` },
    out: `status: ${result.status} (${result.stopReason}) after ${result.iterations} iteration(s)\n${reason}${evidence}\nrun folder: ${result.runDir ?? "-"}\nimage: ${result.image ?? "-"}`,
  });
  const failures = cases.filter((c) => c.outcome.kind === "failure").length;
  const errors = cases.filter((c) => c.outcome.kind === "error").length;
  const skipped = cases.filter((c) => c.outcome.kind === "skipped").length;
  const counts = `tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(result.durationMs)}"`;
  const name = xml(`azlon ${result.runId ?? ""}`.trim());
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="azlon" ${counts}>`,
    `  <testsuite name="${name}" ${counts}>`,
    "    <properties>",
    `      <property name="status" value="${xml(result.status)}"/>`,
    `      <property name="stopReason" value="${xml(result.stopReason)}"/>`,
    `      <property name="runDir" value="${xml(result.runDir ?? "")}"/>`,
    `      <property name="image" value="${xml(result.image ?? "")}"/>`,
    "    </properties>",
    ...cases.map(renderCase),
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
