import type { BoundedText, BuildResult, ExecResult } from "../core/types.js";
import { formatBytes, formatDuration } from "../util/format.js";
import { stripEscapes } from "../util/terminal.js";
import type { RunMode } from "./runtime.js";

/**
 * Printed text as one fenced block, set apart from azlon's own words around it. The fence is
 * longer than any run of backticks inside, so nothing printed can close it early. Terminal
 * escape sequences (colours) are left out, as the evidence check leaves them out; the logs on
 * disk keep them.
 */
export function fenced(text: string): string {
  const body = stripEscapes(text).replace(/\n$/, "");
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}\n${body}\n${fence}`;
}

/** Printed output for a prompt: fenced, or said to be empty; a cut one says so first. */
export function shownOutput(output: BoundedText, what: string): string {
  const note = output.truncated
    ? `(The ${what} was ${formatBytes(output.totalBytes)}; its middle was cut, as marked. Head and tail are shown.)\n`
    : "";
  return output.text === "" ? "(nothing was printed)" : note + fenced(output.text);
}

export function describeResult(
  build: BuildResult,
  exec: ExecResult | null,
  mode: RunMode = "program",
): string {
  if (!build.ok) {
    return build.timedOut
      ? `The image build TIMED OUT after ${formatDuration(build.durationMs)} and was stopped; nothing ran. The output below is the build log up to that point.`
      : "The image build FAILED; nothing ran. The output below is the build log.";
  }
  if (!exec) return "The image was built but nothing ran.";
  const service = mode === "service";
  const lines = [
    `The image was built and the ${service ? "service" : "program"} ran for ${formatDuration(exec.durationMs)}.`,
  ];
  if (exec.timedOut) {
    lines.push(
      "It TIMED OUT: it was still running at the time limit and was killed. It must finish on its own.",
    );
  } else if (exec.oomKilled) {
    lines.push("It ran OUT OF MEMORY: the engine killed it at the memory limit.");
  } else if (exec.signal) {
    lines.push(`It was killed by signal ${exec.signal}.`);
  }
  const endedItself = !exec.timedOut && !exec.oomKilled && !exec.signal;
  if (service && exec.exitCode === null && endedItself) {
    lines.push(
      "Exit code: none: it was still running when azlon stopped it after the checks, as a service should.",
    );
  } else if (service && endedItself) {
    lines.push(`Exit code: ${exec.exitCode}: the service exited on its own; it must keep running.`);
  } else {
    lines.push(`Exit code: ${exec.exitCode ?? "none"}.`);
  }
  return lines.join("\n");
}

/** What the judge reads as "the output": the build log when the build failed. */
export function judgedOutput(build: BuildResult, exec: ExecResult | null): string {
  return !build.ok || !exec ? shownOutput(build.log, "build log") : shownOutput(exec.output, "output");
}
