import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/config/defaults.js";
import type { Engine } from "../../src/engine/engine.js";
import { runOptionsFrom } from "../../src/engine/options.js";
import { createRun } from "../../src/engine/runs.js";
import { RunManager } from "../../src/server/manager.js";
import type { PromptStore } from "../../src/server/prompts.js";
import { Redactor } from "../../src/util/secrets.js";
import { tempDir } from "../helpers/tmp.js";

describe("the server's runs after a restart", () => {
  it("a run a previous server with this very process number left running is carried on and can be resumed", () => {
    const out = tempDir();
    const redactor = new Redactor([]);
    const { state, folder } = createRun(
      { prompt: "greet", tests: "prints hello" },
      runOptionsFrom(DEFAULTS, out, out),
      redactor,
    );
    // Killed mid-run by a server that had our number (pid 1 in a container always does).
    state.legs.push({
      pid: process.pid,
      host: hostname(),
      status: "running",
      startedAt: state.createdAt,
      endedAt: null,
    });
    folder.saveState(state);
    folder.close();
    writeFileSync(join(folder.dir, "serve.json"), JSON.stringify({ queued: false }));
    const started: string[] = [];
    // Only what the manager asks of an engine: it records the start and declines it.
    const engine = {
      redactor,
      start: (prepared: { state: { runId: string } }) => {
        started.push(prepared.state.runId);
        throw new Error("not in this test");
      },
    } as unknown as Engine;
    const manager = new RunManager({
      engine,
      outDir: out,
      cwd: out,
      concurrency: 1,
      maxQueue: 100,
      config: DEFAULTS,
      prompts: {} as PromptStore,
      log: () => {},
    });
    manager.recover();
    expect(started).toEqual([state.runId]);
    expect(manager.statusOf(state.runId)).toBe("interrupted");
    expect(() => manager.resume(state.runId, folder.dir, {})).not.toThrow();
    expect(started).toEqual([state.runId, state.runId]);
  });
});

describe("a served run whose base URL has a secret in its query", () => {
  it("starts with the server's own URL: run.json holds it masked", () => {
    const out = tempDir();
    const baseUrl = "http://127.0.0.1:9/v1?api-key=served-secret-1234";
    const config = { ...DEFAULTS, baseUrl };
    const redactor = new Redactor([]);
    const { folder } = createRun(
      { prompt: "greet", tests: "prints hello" },
      runOptionsFrom(config, out, out),
      redactor,
    );
    folder.close();
    writeFileSync(join(folder.dir, "serve.json"), JSON.stringify({ queued: true }));
    const started: Array<string | null> = [];
    const engine = {
      redactor,
      start: (prepared: { state: { options: { baseUrl: string | null } } }) => {
        started.push(prepared.state.options.baseUrl);
        throw new Error("not in this test");
      },
    } as unknown as Engine;
    const manager = new RunManager({
      engine,
      outDir: out,
      cwd: out,
      concurrency: 1,
      maxQueue: 100,
      config,
      prompts: {} as PromptStore,
      log: () => {},
    });
    manager.recover();
    expect(started).toEqual([baseUrl]);
    expect(readFileSync(join(folder.dir, "run.json"), "utf8")).not.toContain("served-secret-1234");
  });
});
