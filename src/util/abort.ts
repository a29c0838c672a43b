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
