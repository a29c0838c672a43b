import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planBatch } from "../../src/batch/plan.js";
import { thrownAsync } from "../helpers/thrown.js";
import { tempDir } from "../helpers/tmp.js";

const task = (id: string, options?: Record<string, unknown>) =>
  JSON.stringify({ id, prompt: "p", tests: "t", ...(options ? { options } : {}) });

async function plan(lines: string[], flags: Record<string, unknown>) {
  const cwd = tempDir();
  writeFileSync(join(cwd, "tasks.jsonl"), lines.join("\n"));
  return planBatch({ tasks: "tasks.jsonl", flags, cwd, env: {}, command: "batch" });
}

describe("azlon batch's --network and --builder: every task's, where a task's own may not", () => {
  it("the batch's flags open the network and choose the builder for every task", async () => {
    const p = await plan([task("a"), task("b", { network: "none" })], {
      network: "bridge",
      builder: "buildkit",
    });
    expect(p.options.map((o) => o.limits.network)).toEqual(["bridge", "bridge"]);
    expect(p.options.map((o) => o.builder)).toEqual(["buildkit", "buildkit"]);
  });

  it("a task that asks for the network itself is refused, pointing at the batch's flag", async () => {
    const error = await thrownAsync(() => plan([task("a", { network: "bridge" })], {}));
    expect(error.message).toContain('"network" would let');
    expect((error as Error & { hint?: string }).hint).toContain("--network bridge to azlon batch");
  });
});
