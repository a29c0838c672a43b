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
  /** Installs handlers for Ctrl-C and SIGTERM; returns a function that removes them. */
  onInterrupt?: (handler: (signal: "SIGINT" | "SIGTERM") => void) => () => void;
  /** Leaves at once with this exit code (a second Ctrl-C). */
  exitNow?: (code: number) => never;
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
