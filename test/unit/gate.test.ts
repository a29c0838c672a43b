import { describe, expect, it } from "vitest";
import { AbortedError } from "../../src/core/errors.js";
import { Gate } from "../../src/util/gate.js";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("the start gate: at most as many runs on their way to a running program as the machine has cores", () => {
  it("admits up to its limit, then the waiters in order as places free", async () => {
    const gate = new Gate(2);
    const never = new AbortController().signal;
    const order: string[] = [];
    const a = await gate.acquire(never);
    const b = await gate.acquire(never);
    const admitted = (name: string) => (free: () => void) => {
      order.push(name);
      return free;
    };
    const c = gate.acquire(never).then(admitted("c"));
    const d = gate.acquire(never).then(admitted("d"));
    await tick();
    expect(order).toEqual([]);
    a();
    a(); // freeing twice frees one place
    await tick();
    expect(order).toEqual(["c"]);
    b();
    await tick();
    expect(order).toEqual(["c", "d"]);
    (await c)();
    (await d)();
    // All free again: two at once, at once.
    await Promise.all([gate.acquire(never), gate.acquire(never)]);
  });

  it("a waiter whose run is stopped leaves the queue at once, and holds no place", async () => {
    const gate = new Gate(1);
    const never = new AbortController().signal;
    const first = await gate.acquire(never);
    const stop = new AbortController();
    const waiting = gate.acquire(stop.signal);
    stop.abort(new AbortedError("interrupted"));
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    first();
    // The place went to no one: the next asks and gets it straight away.
    const next = await Promise.race([gate.acquire(never), tick().then(() => null)]);
    expect(next).not.toBeNull();
  });
});
