import type { CheckResult, ExecResult } from "../core/types.js";
import { formatDuration } from "../util/format.js";

/** A check's exit code in words: what a user needs to tell a failing test from a broken one. */
export function checkProblem(exitCode: number | null, timedOut: boolean, timeoutMs: number): string | null {
  if (timedOut) return `timed out after ${formatDuration(timeoutMs)}`;
  if (exitCode === 0) return null;
  if (exitCode === 127) return "command not found (exit 127)";
  if (exitCode === 126) return "command not executable (exit 126)";
  if (exitCode === 137) return "killed (exit 137: out of memory or a signal)";
  return exitCode === null ? "no exit code" : `exit ${exitCode}`;
}

/** A check's run as its result: passed when it exited 0 in time. */
export function toCheck(
  command: string,
  exec: Pick<ExecResult, "exitCode" | "timedOut" | "output" | "durationMs">,
  timeoutMs: number,
): CheckResult {
  const problem = checkProblem(exec.exitCode, exec.timedOut, timeoutMs);
  return {
    command,
    exitCode: exec.exitCode,
    timedOut: exec.timedOut,
    passed: problem === null,
    problem,
    output: exec.output,
    durationMs: exec.durationMs,
  };
}

/** Every check failed without running, for one reason (the service was not ready, say). */
export function notRun(commands: readonly string[], problem: string, output = ""): CheckResult[] {
  return commands.map((command) => ({
    command,
    exitCode: null,
    timedOut: false,
    passed: false,
    problem,
    output: { text: output, totalBytes: Buffer.byteLength(output), truncated: false },
    durationMs: 0,
  }));
}
