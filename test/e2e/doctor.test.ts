import { expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { BUSYBOX } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-doctor-1a2b3c4d";
const { server } = loopbackModel();

describeDocker("azlon doctor against the real engine", () => {
  it("names the engine and its builder; --base-image builds the trial FROM an image this host has", async () => {
    const cwd = tempDir();
    const env = { OPENAI_API_KEY: KEY };
    const ok = await runCli(
      ["doctor", "--model", "gpt-test", "--base-url", server.url, "--base-image", BUSYBOX],
      { cwd, env },
    );
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/✔ docker +Docker \S+ \(API [\d.]+\) at .*; builds with the classic builder/);
    expect(ok.stdout).toContain("BuildKit for Dockerfiles that need it");
    expect(ok.stdout).toContain(`✔ sandbox   a trial image FROM ${BUSYBOX} built and ran`);

    const missing = await runCli(
      [
        "doctor",
        "--model",
        "gpt-test",
        "--base-url",
        server.url,
        "--base-image",
        "azlon-test-no-such-base:0",
      ],
      { cwd, env },
    );
    expect(missing.code).toBe(3);
    expect(missing.stdout).toContain(
      "✖ sandbox   a trial image FROM azlon-test-no-such-base:0 did not build",
    );
    expect(missing.stdout).toContain("make sure the base image exists locally");
  });
});
