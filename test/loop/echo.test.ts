import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runLoop } from "../../src/core/loop.js";
import type { Verdict } from "../../src/core/types.js";
import { judgeMessages } from "../../src/prompts/compose.js";
import { loadTemplates } from "../../src/prompts/templates.js";
import { FakeSandbox, freshState, gen, newFolder, ScriptedModel } from "../helpers/fakes.js";
import { tempDir } from "../helpers/tmp.js";

const HUGE = "P".repeat(2 * 2 ** 20);

describe("what the loop echoes of a reply is bounded", () => {
  it("a 2 MiB path, 5,000 refusals, a 2 MiB reason and 5,000 quotes reach neither run.json, the journal, nor the judge whole", async () => {
    const dir = tempDir();
    const kept = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`keep-${i}.txt`, "x"]));
    const refused = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`../out-${i}`, "x"]));
    const generation = gen({ "hello.sh": "echo hello", ...kept, ...refused, [HUGE]: "x" });
    const verdict: Verdict = {
      passed: false,
      reason: `wrong ${HUGE}`,
      evidence: Array.from({ length: 5000 }, (_, i) => `quote ${i} ${HUGE.slice(0, 1000)}`),
      dockerfile: null,
      files: null,
      delete: Object.keys(kept),
    };
    const model = new ScriptedModel([
      { kind: "generate", answer: generation },
      { kind: "judge", answer: verdict },
      { kind: "judge", answer: { ...verdict, reason: "still wrong", evidence: [], delete: null } },
      { kind: "judge", answer: { ...verdict, reason: "still wrong", evidence: [], delete: null } },
    ]);
    const { state } = await runLoop(
      freshState({ maxIterations: 3 }),
      {
        model,
        sandbox: new FakeSandbox([{ output: "hello\n" }, { output: "hello\n" }, { output: "hello\n" }]),
        store: newFolder(dir),
        report: () => {},
        now: () => performance.now(),
      },
      new AbortController().signal,
    );
    expect(state.status).toBe("failed");

    const first = model.judged[0]?.request;
    if (!first) throw new Error("the judge was not asked");
    expect(first.refused).toHaveLength(21);
    expect(first.refused[20]?.path).toBe("(4981 more)");
    const second = model.judged[1]?.request;
    const round1 = second?.history[0]?.summary ?? "";
    expect(round1).toContain("and 24 more"); // wrote: the Dockerfile and 31 files, 8 named
    // The reason is kept whole up to the bound every echoed reason has, then cut.
    expect(round1).toContain(`(${HUGE.length + 6 - 1000} more characters)`);
    expect(round1.length).toBeLessThan(1500);
    const round2 = model.judged[2]?.request.history[1]?.summary ?? "";
    expect(round2).toContain("deleted keep-0.txt, keep-1.txt");
    expect(round2).toContain("and 22 more");

    const prompt = judgeMessages(loadTemplates(), { limits: state.options.limits, baseImage: null }, first)
      .map((m) => m.content)
      .join("\n");
    const runJson = readFileSync(join(dir, "run.json"), "utf8");
    const journal = readFileSync(join(dir, "events.jsonl"), "utf8");
    for (const [where, text] of Object.entries({ prompt, runJson, journal })) {
      expect(text.includes(HUGE.slice(0, 5000)), where).toBe(false);
    }
    expect(runJson.length).toBeLessThan(50_000);
    expect(journal.length).toBeLessThan(50_000);
    expect(journal).toContain("more characters)");
    // The reply itself is kept whole, where it belongs.
    expect(readFileSync(join(dir, "iterations/01/verdict.json"), "utf8")).toContain(HUGE);
  });
});
