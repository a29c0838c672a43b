import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerSandbox } from "../../src/sandbox/docker-sandbox.js";
import { Redactor } from "../../src/util/secrets.js";
import { MemoryEngine } from "../helpers/memory-engine.js";
import { tempDir } from "../helpers/tmp.js";

const engine = new MemoryEngine();
beforeAll(() => engine.start());
afterAll(() => engine.stop());

const RACE = `unable to find image "sha256:${"7001b99c".repeat(8)}"`;

async function build(): Promise<{ ok: boolean; cause: string | null }> {
  const root = tempDir();
  const context = join(root, "workspace");
  mkdirSync(context);
  writeFileSync(join(context, "Dockerfile"), 'FROM busybox:latest\nENTRYPOINT ["echo", "hi"]\n');
  const [host, port] = engine.host.replace("tcp://", "").split(":");
  const box = new DockerSandbox(new Docker({ host, port: Number(port) }), {
    runId: `retry-${Date.now()}`,
    imageTag: `azlon/retry-${Date.now()}`,
    limits: {
      memoryBytes: 2 ** 28,
      cpus: 1,
      pids: 64,
      network: "none",
      runTimeoutMs: 5000,
      buildTimeoutMs: 5000,
    },
    maxModelBytes: 65536,
    maxLogBytes: 65536,
    redactor: new Redactor([]),
  });
  return box.build(context, { path: join(root, "build.log") }, new AbortController().signal);
}

describe("a build the engine lost an image under (another build's image removed during its cache lookup)", () => {
  it("is built again, and the round is not lost", async () => {
    engine.builds = 0;
    engine.failBuilds.push(RACE);
    const result = await build();
    expect(result.ok).toBe(true);
    expect(engine.builds).toBe(2);
  });

  it("at most twice more: an engine that keeps losing it fails the build, naming the cause", async () => {
    engine.builds = 0;
    engine.failBuilds.push(RACE, RACE, RACE, RACE);
    const result = await build();
    expect(result.ok).toBe(false);
    expect(result.cause).toContain("unable to find image");
    expect(engine.builds).toBe(3);
    engine.failBuilds.length = 0;
  });

  it("the Dockerfile's own error is the model's: built once", async () => {
    engine.builds = 0;
    engine.failBuilds.push("The command '/bin/sh -c make' returned a non-zero code: 2");
    const result = await build();
    expect(result.ok).toBe(false);
    expect(engine.builds).toBe(1);
  });
});
