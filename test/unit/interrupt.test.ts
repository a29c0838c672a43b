import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliContext, InterruptSignal } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { currentOwner, deadlineLabel, ownerLabels, RUN_LABEL } from "../../src/sandbox/owner.js";
import { runArgs } from "../helpers/e2e.js";
import { FakeOpenAI, generation } from "../helpers/fake-openai.js";
import { MemoryEngine } from "../helpers/memory-engine.js";
import { onlyRunDir } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const model = new FakeOpenAI();
const engine = new MemoryEngine();
beforeAll(async () => {
  await model.start();
  await engine.start();
});
afterAll(async () => {
  await model.stop();
  await engine.stop();
});

describe("Ctrl-C (the CLI in-process, an in-memory engine)", () => {
  it("while the program runs: exit 130, the run's container removed, another run's left", async () => {
    // A live run of another azlon on the same engine: not this run's to remove.
    const other = engine.seed({
      [RUN_LABEL]: "another-run",
      ...ownerLabels(currentOwner()),
      ...deadlineLabel(Date.now(), 3_600_000),
    });
    model.enqueue(generation('FROM busybox:latest\nENTRYPOINT ["sleep", "600"]\n', {}));
    let interrupt: ((signal: InterruptSignal) => void) | null = null;
    let running: string[] = [];
    engine.onStart = () => {
      running = [...engine.containers.values()].filter((c) => c.state === "running").map((c) => c.id);
      setTimeout(() => interrupt?.("SIGINT"), 50);
    };
    const cwd = tempDir();
    let stderr = "";
    const ctx: CliContext = {
      env: { OPENAI_API_KEY: "sk-test-interrupt-0f1e2d3c", HOME: cwd, DOCKER_HOST: engine.host },
      cwd,
      stdout: { write: () => true },
      stderr: { write: (s: string) => (stderr += s) },
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => {
          interrupt = null;
        };
      },
    };

    const code = await main(runArgs(model, join(cwd, "runs")), ctx);

    expect(code, stderr).toBe(130);
    expect(stderr).toContain("Ctrl-C: stopping and cleaning up");
    expect(running).toHaveLength(1);
    expect(engine.removed.map((r) => r.id)).toContain(running[0]);
    expect([...engine.containers.keys()]).toEqual([other.id]);
    const state = JSON.parse(readFileSync(join(onlyRunDir(join(cwd, "runs")), "run.json"), "utf8"));
    expect(state).toMatchObject({ status: "interrupted", stopReason: "interrupted" });
    expect(engine.unexpected).toEqual([]);
    // azlon's label went into the Dockerfile and held: one build, not a second to relabel it.
    expect(engine.images.size).toBe(1);
  });
});
