/** Exit codes of the CLI, as SPEC.md defines them. */
export const ExitCode = {
  passed: 0,
  notPassed: 1,
  usage: 2,
  environment: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the CLI reports in one line (no stack trace) and turns into an exit code.
 * Only the CLI entry decides how a FatalError ends the process.
 */
export abstract class FatalError extends Error {
  abstract readonly exitCode: ExitCode;
  /** What the user can do about it, shown after the message. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super(message, options);
    this.hint = hint;
    this.name = new.target.name;
  }
}

/** Bad flags, arguments or input files. */
export class UsageError extends FatalError {
  override readonly exitCode = ExitCode.usage;
}

/** A configuration file or value that is invalid. */
export class ConfigError extends FatalError {
  override readonly exitCode = ExitCode.usage;
}

/** Something outside azlon is missing or broken: Docker engine, endpoint, credentials. */
export class EnvironmentError extends FatalError {
  override readonly exitCode = ExitCode.environment;
}

/** The Docker engine cannot be reached or refused a request azlon needs. */
export class DockerUnavailableError extends EnvironmentError {}

/** The model endpoint cannot be reached, rejects the credentials, or lacks the model. */
export class EndpointError extends EnvironmentError {}

/**
 * The model kept answering in a way azlon cannot use (refusals, replies cut by the length
 * limit, malformed JSON) after the bounded repair turns. The run ends as an error, exit 1.
 */
export class ModelReplyError extends FatalError {
  override readonly exitCode = ExitCode.notPassed;
}

/** A run folder that cannot be resumed (missing, corrupt, or finished). */
export class RunStateError extends FatalError {
  override readonly exitCode = ExitCode.usage;
}

/**
 * A run folder or a server's --out that another live process drives (one run, one driver):
 * the message names that process. Refused at once, exit 2; the server's routes answer 409.
 */
export class LockedError extends FatalError {
  override readonly exitCode = ExitCode.usage;
}

/** Why an in-flight operation was aborted: the user, or a budget that ran out. */
export type AbortCause = "interrupted" | "max-time";

/** Thrown by collaborators when the run's AbortSignal fires. */
export class AbortedError extends Error {
  readonly why: AbortCause;
  constructor(why: AbortCause) {
    super(why === "interrupted" ? "interrupted" : "time budget reached");
    this.why = why;
    this.name = "AbortedError";
  }
}

/** The cause stored on an AbortSignal by the run controller, or "interrupted" if unknown. */
export function abortCause(signal: AbortSignal): AbortCause {
  const reason: unknown = signal.reason;
  if (reason instanceof AbortedError) return reason.why;
  return "interrupted";
}

/** Throws an AbortedError if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(abortCause(signal));
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
