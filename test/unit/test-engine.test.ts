import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { resolveDockerTarget } from "../../src/sandbox/connection.js";
import { baseEnv, ROOT } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

/** The socket the Docker-tier helper probes and cleans up with, loaded under this environment. */
async function helperSocket(env: Record<string, string>): Promise<string | undefined> {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  vi.resetModules();
  const { docker } = await import("../helpers/docker.js");
  return (docker.modem as { socketPath?: string }).socketPath;
}

describe("the tests' Docker engine is the one the CLI uses", () => {
  it("DOCKER_HOST is honoured", async () => {
    const sock = join(tempDir(), "engine.sock");
    expect(await helperSocket({ DOCKER_HOST: `unix://${sock}` })).toBe(sock);
  });

  it("so is the current Docker context, as the CLI reads it", async () => {
    const config = tempDir();
    const sock = join(config, "colima.sock");
    const hash = createHash("sha256").update("colima").digest("hex");
    const meta = join(config, "contexts/meta", hash);
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(meta, { recursive: true });
    writeFileSync(
      join(meta, "meta.json"),
      JSON.stringify({ Endpoints: { docker: { Host: `unix://${sock}` } } }),
    );
    writeFileSync(join(config, "config.json"), JSON.stringify({ currentContext: "colima" }));
    const env = { DOCKER_HOST: "", DOCKER_CONFIG: config };
    const cli = resolveDockerTarget({ env, home: "/nonexistent" });
    expect(cli.options.socketPath).toBe(sock);
    expect(await helperSocket(env)).toBe(sock);
  });

  it("the CLIs the tests spawn get the variables that choose the engine", () => {
    vi.stubEnv("DOCKER_CONTEXT", "colima");
    vi.stubEnv("DOCKER_CONFIG", "/home/dev/.docker");
    vi.stubEnv("DOCKER_HOST", "unix:///run/user/1000/docker.sock");
    expect(baseEnv()).toMatchObject({
      DOCKER_CONTEXT: "colima",
      DOCKER_CONFIG: "/home/dev/.docker",
      DOCKER_HOST: "unix:///run/user/1000/docker.sock",
    });
  });

  it(".ci/run sets CI=true before the tests, so a missing engine fails the Docker tier there", () => {
    const script = readFileSync(join(ROOT, ".ci/run"), "utf8");
    const exported = script.search(/^export CI=true$/m);
    expect(exported).toBeGreaterThan(-1);
    expect(exported).toBeLessThan(script.indexOf("npm test"));
  });
});
