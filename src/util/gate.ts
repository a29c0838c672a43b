import { AbortedError, abortCause } from "../core/errors.js";

/**
 * At most `limit` holders at once; the rest wait in order. A waiter whose signal aborts leaves
 * the queue at once (its Ctrl-C or time limit is not held up by others' work).
 */
export class Gate {
  private held = 0;
  private readonly waiting: Array<{ admit: () => void }> = [];

  constructor(readonly limit: number) {}

  /** Waits for a place; the function it gives frees the place (once, however often called). */
  async acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) throw new AbortedError(abortCause(signal));
    if (this.held >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          admit: () => {
            signal.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new AbortedError(abortCause(signal)));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        this.waiting.push(waiter);
      });
    } else {
      this.held++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The place passes straight to the next waiter; else it is free.
      if (next) next.admit();
      else this.held--;
    };
  }
}
