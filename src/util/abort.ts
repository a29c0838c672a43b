import { AbortedError, abortCause } from "../core/errors.js";

/** Rejects with an AbortedError when the signal fires; dispose() removes the listener. */
export function onAbort(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let listener: () => void = () => {};
  const promise = new Promise<never>((_resolve, reject) => {
    listener = () => reject(new AbortedError(abortCause(signal)));
    if (signal.aborted) listener();
    else signal.addEventListener("abort", listener, { once: true });
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener("abort", listener) };
}

/** A timer as a promise that can be cancelled (so it never holds the process open). */
export function sleep(ms: number): { promise: Promise<"timeout">; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * A signal of its own for one call, aborted when `parent` is. Some libraries add an abort
 * listener to the signal they are given and never remove it (the openai SDK does, once per
 * request): given the run's signal, which lives for every round, they would pile up on it
 * until Node warns (MaxListenersExceededWarning at 11). `dispose()` when the call is over
 * leaves the parent as it was.
 */
export function scopedSignal(parent: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const forward = () => controller.abort(parent.reason);
  if (parent.aborted) forward();
  else parent.addEventListener("abort", forward, { once: true });
  return { signal: controller.signal, dispose: () => parent.removeEventListener("abort", forward) };
}
