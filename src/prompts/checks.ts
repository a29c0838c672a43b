import { CHECKS_MOUNT, type ChecksReport, type CheckView } from "../core/types.js";
import { formatDuration } from "../util/format.js";
import { blocksWithin } from "./file-blocks.js";
import { shownOutput } from "./output.js";

/** The most of the checks' files one prompt carries; the rest are named. */
export const MAX_PROMPT_CHECK_BYTES = 64 * 1024;

function quoteCommand(command: string): string {
  return `\`${command.replace(/`/g, "'")}\``;
}

/**
 * The user's checks as the model is told them: stable across rounds (so it sits with the
 * other stable parts of a prompt). Empty when there are no checks.
 */
export function describeChecks(view: CheckView | null): string {
  if (!view || view.commands.length === 0) return "";
  const lines = ["# The user's checks", ""];
  const image = view.image ?? null;
  if (image !== null) {
    lines.push(
      view.ready !== null
        ? `azlon polls ${quoteCommand(view.ready)} inside the service's container until it exits 0, then runs each check below with \`sh -c\` in a fresh container of the user's image \`${image}\` (not the project's) that shares the service's network, so checks reach the service on localhost.`
        : `After the program has run, each command below runs with \`sh -c\` in a fresh container of the user's image \`${image}\`, not the project's: the project's files are there read-only at /azlon/project, and the program's run at /azlon/output (stdout, stderr, exit-code).`,
    );
  } else if (view.ready !== null) {
    lines.push(
      `azlon polls ${quoteCommand(view.ready)} inside the service's container until it exits 0, then runs each check below with \`sh -c\` in a fresh container of the same image that shares the service's network, so checks reach the service on localhost (they do not see files the running service writes).`,
    );
  } else {
    lines.push(
      "After the program has run, each command below runs with `sh -c` in a fresh container of the same image (its ENTRYPOINT replaced by the command, in the image's working folder).",
    );
  }
  lines.push(
    view.verdict === "checks"
      ? "A check passes when it exits 0. The checks alone decide whether the run passes."
      : view.verdict === "both"
        ? "A check passes when it exits 0. The run passes only when every check passes and the output shows every test condition."
        : "A check passes when it exits 0; the judge weighs their results with the output.",
    ...(view.names.length
      ? [
          `The user's check files are copied into ${CHECKS_MOUNT} ${image !== null ? "in the checks' own containers" : "after the image is built"}: write nothing under /azlon yourself (it is replaced).`,
        ]
      : []),
    ...(image !== null
      ? [
          view.ready !== null
            ? "The checks' image has its own tools: the project's image needs only what the service needs."
            : "The checks' image has its own tools: the project's image needs only what the program needs, and the checks read the project's files at /azlon/project and the program's output at /azlon/output.",
        ]
      : [
          "Checks may import the project by name or run it by path, from their own folder (a script in /azlon/checks imports from there, not from the working folder): make both work in the image (for Python, set PYTHONPATH to the project's folder).",
          view.need
            ? `Give the image what the checks need (the user says: ${view.need}).`
            : "Give the image what the checks need (their interpreter, test runner and libraries).",
        ]),
    "",
    "Commands:",
    ...view.commands.map((c) => `- ${quoteCommand(c)}`),
  );
  if (view.names.length) {
    lines.push("", `Files in ${CHECKS_MOUNT}:`);
    if (view.files === null) {
      lines.push(
        `${view.names.join(", ")} (their contents are held out: write the project from the task and the test conditions, not from the checks)`,
      );
    } else {
      const { shown, left } = blocksWithin(view.files, MAX_PROMPT_CHECK_BYTES);
      lines.push(...shown);
      if (left.length) {
        lines.push(`(Not shown, to keep this prompt short: ${left.map((f) => f.path).join(", ")}.)`);
      }
    }
  }
  return lines.join("\n");
}

/** What the checks did this round: the changing part of a judge prompt. Empty without checks. */
export function describeCheckResults(view: CheckView | null, report: ChecksReport | null): string {
  if (!view || view.commands.length === 0) return "";
  const lines = ["# Check results", ""];
  if (!report) {
    lines.push("The checks did not run (the build failed, or the program never ran).");
    return lines.join("\n");
  }
  if (report.service) {
    lines.push(
      report.service.ready
        ? `The service became ready in ${formatDuration(report.service.durationMs)}.`
        : `The service did NOT become ready: ${report.service.problem}. The checks could not run; the service's own output is under "Output".`,
    );
  }
  const passed = report.results.filter((r) => r.passed).length;
  lines.push(`${passed} of ${report.results.length} checks passed.`);
  for (const r of report.results) {
    const status = r.passed ? "PASSED" : `FAILED (${r.problem ?? "failed"})`;
    lines.push(
      "",
      `## ${quoteCommand(r.command)}: ${status}, ${formatDuration(r.durationMs)}`,
      shownOutput(r.output, "check's output"),
    );
  }
  return lines.join("\n");
}
