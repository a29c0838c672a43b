import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { AbortedError } from "../../src/core/errors.js";
import { scopedSignal } from "../../src/util/abort.js";

describe("a signal scoped to one call", () => {
  it("fires with the run's reason, and leaves no listener on the run's signal once disposed", () => {
    const run = new AbortController();
    // A run of many rounds: each call's listener goes when the call is over.
    for (let i = 0; i < 20; i++) scopedSignal(run.signal).dispose();
    expect(getEventListeners(run.signal, "abort")).toHaveLength(0);
    const call = scopedSignal(run.signal);
    run.abort(new AbortedError("max-time"));
    expect(call.signal.aborted).toBe(true);
    expect(call.signal.reason).toMatchObject({ why: "max-time" });
  });

  it("is aborted at once when the run's signal already was", () => {
    const run = new AbortController();
    run.abort(new AbortedError("interrupted"));
    expect(scopedSignal(run.signal).signal.aborted).toBe(true);
  });
});
