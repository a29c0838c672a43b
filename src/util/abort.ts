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
