/** A stream the CLI writes to; process.stdout in production, a buffer in tests. */
export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Everything the CLI takes from its surroundings, passed in so tests can call it directly. */
export interface CliContext {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: OutStream;
  stderr: OutStream;
  /** Standard input, read by `--prompt-file -` and `--tests-file -`; process.stdin in production. */
  stdin?: AsyncIterable<string | Uint8Array>;
  /**
   * Installs handlers for Ctrl-C, SIGTERM, SIGHUP and for stdout or stderr going away
   * (reported as SIGPIPE); returns a function that removes them.
   */
  onInterrupt?: (handler: (signal: InterruptSignal) => void) => () => void;
  /** Leaves at once with this exit code (a second Ctrl-C). */
  exitNow?: (code: number) => never;
}

/**
 * What stops a run from outside. "SIGPIPE" stands for stdout or stderr whose reader went away
 * (`azlon run ... | head`): Node ignores the signal itself, and the write fails with EPIPE.
 */
export type InterruptSignal = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGPIPE";

/** 128 + the signal's number, as a shell reports it: 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP, 141 SIGPIPE. */
export function interruptExitCode(signal: InterruptSignal): number {
  // The POSIX numbers, the same on Linux and macOS; Windows has no SIGPIPE to look up.
  return 128 + { SIGHUP: 1, SIGINT: 2, SIGPIPE: 13, SIGTERM: 15 }[signal];
}

export function isCI(env: CliContext["env"]): boolean {
  return !!env.CI && env.CI !== "false" && env.CI !== "0";
}

/** Colours: off with NO_COLOR (any value), off when stderr is not a terminal, unless FORCE_COLOR. */
export function colorEnabled(ctx: CliContext): boolean {
  if (ctx.env.NO_COLOR !== undefined && ctx.env.NO_COLOR !== "") return false;
  if (ctx.env.FORCE_COLOR !== undefined && ctx.env.FORCE_COLOR !== "0") return true;
  return !!ctx.stderr.isTTY;
}
