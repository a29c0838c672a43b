import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LoopEvent } from "../../src/core/events.js";
import { runLoop } from "../../src/core/loop.js";
import type { GenerateRequest, Generation, ModelContext } from "../../src/core/types.js";
import { redactorFor } from "../../src/engine/options.js";
import { createRun } from "../../src/engine/runs.js";
import { FakeSandbox, gen, notPassed, passed, ScriptedModel, testOptions } from "../helpers/fakes.js";
import { judge } from "../helpers/loop-harness.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-journal-5e4d3c2b1a09";

/** A model whose first reply was unusable and echoed the key (the journal keeps such replies). */
class EchoingModel extends ScriptedModel {
  override async generate(request: GenerateRequest, ctx: ModelContext): Promise<Generation> {
    ctx.emit({
      type: "model.call",
      purpose: "generate",
      iteration: ctx.iteration,
      turn: 0,
      mode: "json_schema",
      outcome: "invalid",
      detail: `not valid JSON; the key was ${KEY}`,
      finishReason: "stop",
      usage: { promptTokens: 10, completionTokens: 10, cachedTokens: 0 },
      durationMs: 1,
      reply: `Sure! Authorization: Bearer ${KEY}`,
    });
    return super.generate(request, ctx);
  }
}

describe("the journal (events.jsonl) never holds the API key", () => {
  it("a run whose replies, paths, quotes and reasons carry the key journals them masked", async () => {
    // The run folder and its redactor made as `azlon run` makes them, from the key it was given.
    const { state, folder } = createRun(
      { prompt: "greet", tests: "prints hello" },
      testOptions({ out: tempDir(), maxIterations: 1 }),
      redactorFor({ OPENAI_API_KEY: KEY }, KEY),
    );
    const events: LoopEvent[] = [];
    await runLoop(
      state,
      {
        model: new EchoingModel([
          { kind: "generate", answer: gen({ "hello.sh": "echo hello", [`notes-${KEY}.txt`]: KEY }) },
          judge(passed([`the key ${KEY} works`])),
          judge(notPassed(`the key ${KEY} is refused`)),
        ]),
        sandbox: new FakeSandbox([{ output: "hello\n" }]),
        store: folder,
        report: (e) => events.push(e),
        now: () => performance.now(),
      },
      new AbortController().signal,
    );
    folder.close();
    // The events themselves carry it: a reply, a written path, a refused quote, a reason.
    const carrying = events.filter((e) => JSON.stringify(e).includes(KEY)).map((e) => e.type);
    expect(carrying).toEqual(
      expect.arrayContaining(["model.call", "changes.applied", "evidence.rejected", "verdict"]),
    );
    const journal = readFileSync(join(folder.dir, "events.jsonl"), "utf8");
    expect(journal).not.toContain(KEY);
    expect(journal).toContain("Bearer [secret]");
    expect(journal).toContain("the key [secret] is refused");
    expect(readFileSync(join(folder.dir, "run.json"), "utf8")).not.toContain(KEY);
  });
});
