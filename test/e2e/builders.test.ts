import { expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { fail, generation, lastUserMessage } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-builders-3c4d5e6f";
const { server, images } = loopbackModel();

describeDocker("BuildKit through azlon run (real engine, loopback model)", () => {
  it("a failing BuildKit step: its error line is on the terminal's round line and in what the model is shown; the fix builds with BuildKit and passes", async () => {
    server.enqueue(
      generation(
        `FROM ${BUSYBOX}\nRUN --mount=type=tmpfs,target=/scratch echo "linking..." && echo "ld: cannot find -lfoo" >&2 && exit 3\nENTRYPOINT ["echo", "hi"]\n`,
        {},
      ),
      fail("the link step fails", {
        dockerfile: `FROM ${BUSYBOX}\nRUN --mount=type=tmpfs,target=/scratch echo built > /scratch/x && echo "scratch ok"\nENTRYPOINT ["echo", "hi"]\n`,
      }),
    );
    const cwd = tempDir();
    const r = await runCli(
      runArgs(server, `${cwd}/runs`, ["--check", "true", "--verdict", "checks", "--max-iterations", "2"]),
      { cwd, env: { OPENAI_API_KEY: KEY } },
    );
    const json = JSON.parse(r.stdout);
    if (json.image) images.push(json.image);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/✖ iteration 1\/2 build failed after [^:]+: .*exit code: 3/);
    const shown = lastUserMessage(server.chatRequests[1]);
    expect(shown).toContain("ld: cannot find -lfoo");
    expect(shown).toMatch(/ERROR: .*exit code: 3/);
    expect(shown).toContain("built with BuildKit (the Dockerfile uses RUN --mount)");
  });
});
