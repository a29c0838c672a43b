import { setTimeout as sleep } from "node:timers/promises";
import { APIConnectionError, APIError } from "openai";
import { AbortedError, abortCause } from "../core/errors.js";
import { ReplyTooLargeError } from "./transport.js";

/** When to try a failed request again. */
export interface RetryPlan {
  /** How long to wait first. */
  waitMs: number;
  /** What the endpoint asked for (Retry-After), when it asked; may exceed waitMs. */
  askedMs: number | null;
}

/** The wait a 429 or 503 asks for: retry-after-ms (the SDK's), else Retry-After (seconds or a date). */
export function askedWaitMs(headers: Headers | undefined, now = Date.now()): number | null {
  const ms = Number.parseFloat(headers?.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const text = headers?.get("retry-after");
  if (!text) return null;
  const seconds = Number.parseFloat(text);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The SDK's own backoff: 0.5 s doubling to 8 s, less up to a quarter of jitter. */
export function backoffMs(retry: number, random = Math.random): number {
  const seconds = Math.min(0.5 * 2 ** (retry - 1), 8);
  return Math.round(seconds * (1 - random() * 0.25) * 1000);
}

/** Whether an error is worth another try: the SDK's rules, without a reply too large. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof APIConnectionError) return !(error.cause instanceof ReplyTooLargeError);
  if (!(error instanceof APIError) || typeof error.status !== "number") return false;
  // The server could not parse the model's own reply to the schema (llama.cpp's "does not match
  // the expected ... format"): asked again, the same model fails the same way.
  if (isUnparsedReply(error)) return false;
  const override = error.headers?.get("x-should-retry");
  if (override === "true") return true;
  if (override === "false") return false;
  return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
}

/**
 * The plan for retry number `retry` (1 for the first), or null when the error is not
 * retryable. The endpoint's own Retry-After is honoured up to maxWaitMs: a server that asks
 * for an hour must not hold the run for an hour.
 */
export function retryPlan(error: unknown, retry: number, maxWaitMs: number): RetryPlan | null {
  if (!isRetryable(error)) return null;
  const asked = error instanceof APIError ? askedWaitMs(error.headers) : null;
  const wanted = asked ?? backoffMs(retry);
  return {
    waitMs: Math.round(Math.min(wanted, maxWaitMs)),
    askedMs: asked === null ? null : Math.round(asked),
  };
}

/** Waits, but ends at once with an AbortedError when the run's signal fires (Ctrl-C, --max-time). */
export async function waitAbortably(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw new AbortedError(abortCause(signal));
  }
}

/** llama.cpp's 500 when the model's output does not fit the format the server built from the schema. */
export function isUnparsedReply(error: unknown): boolean {
  return (
    error instanceof APIError &&
    (error.status ?? 0) >= 500 &&
    /does not match the expected [\w-]+ format/i.test(error.message)
  );
}
