import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { fail, generation, lastUserMessage, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { describePodman, PODMAN_HOST, podman, podmanLeftovers } from "../helpers/podman.js";
import { onlyRunDir } from "../helpers/run-folder.js";
import { expectValidResult } from "../helpers/schema.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-podman-6f5e4d3c";
const { server } = loopbackModel();
const made: string[] = [];
afterAll(async () => {
  for (const image of made)
    await podman
      .getImage(image)
      .remove({ force: true })
      .catch(() => {});
});

async function run(extra: string[], files: Record<string, string> = {}) {
  const cwd = tempDir(files);
  const out = join(cwd, "runs");
  const result = await runCli(runArgs(server, out, extra), {
    cwd,
    env: { OPENAI_API_KEY: KEY, DOCKER_HOST: PODMAN_HOST },
  });
  const json = result.stdout.trim() ? JSON.parse(result.stdout) : null;
  if (json?.image) made.push(json.image);
  return { ...result, json, cwd, dir: existsSync(out) ? onlyRunDir(out) : null };
}

describePodman("Podman as the engine (its Docker-compatible API, real service)", () => {
  it("a whole task: build, run, a check from the checks folder vetoes, the fix passes; nothing is left behind", async () => {
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nCOPY greeting.txt /greeting.txt\nENTRYPOINT ["cat", "/greeting.txt"]\n`, {
        "greeting.txt": "hello, wrld\n",
      }),
      pass(["hello, wrld"]),
      fail("the check wants hello, world", { files: { "greeting.txt": "hello, world\n" } }),
      pass(["hello, world"]),
    );
    const r = await run(["--checks", "checks", "--check", "sh /azlon/checks/t.sh", "--max-iterations", "3"], {
      "checks/t.sh":
        'test "$(cat /greeting.txt)" = "hello, world" && echo PASS || { echo "FAIL got $(cat /greeting.txt)"; exit 1; }\n',
    });
    expect(r.code, r.stderr).toBe(0);
    expectValidResult(r.json);
    expect(r.json).toMatchObject({ status: "passed", iterations: 2, checks: { passed: 1 } });
    // The trust comparison read files through Podman's archive API too.
    expect(r.json.checks.trust.shell).toEqual({ path: "/bin/sh", status: "base" });
    expect(lastUserMessage(server.chatRequests[1])).toContain("FAIL got hello, wrld");
    expect(await podmanLeftovers(r.json.runId)).toEqual({ containers: 0, volumes: 0 });
    expect(await podman.getImage(r.json.image).inspect()).toBeTruthy();
  });

  it("a service checked on localhost with network none; then beside it from a trusted --check-image", async () => {
    const service = () =>
      generation(
        `FROM ${BUSYBOX}\nRUN mkdir /www && echo "hello from httpd" > /www/index.html\nENTRYPOINT ["httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/www"]\n`,
        {},
      );
    const flags = [
      "--service",
      "--ready",
      "wget -q -O /dev/null http://127.0.0.1:8080/",
      "--check",
      "wget -q -O - http://127.0.0.1:8080/ | grep 'hello from httpd'",
      "--verdict",
      "checks",
      "--max-iterations",
      "1",
    ];
    server.enqueue(service());
    const own = await run(flags);
    expect(own.code, own.stderr).toBe(0);
    expect(own.json.checks).toMatchObject({ passed: 1, serviceReady: true });
    server.enqueue(service());
    const trusted = await run([...flags, "--check-image", BUSYBOX]);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.json.checks).toMatchObject({ passed: 1, trust: { checkImage: BUSYBOX } });
    expect(await podmanLeftovers(own.json.runId)).toEqual({ containers: 0, volumes: 0 });
    expect(await podmanLeftovers(trusted.json.runId)).toEqual({ containers: 0, volumes: 0 });
  });

  it("Buildah builds RUN --mount and holds a RUN step to --memory (300 MB killed under 64m)", async () => {
    server.enqueue(
      generation(
        `FROM ${BUSYBOX}\nRUN --mount=type=cache,target=/c echo cached > /c/x && dd if=/dev/zero of=/dev/null bs=300M count=1\nENTRYPOINT ["echo", "built"]\n`,
        {},
      ),
      fail("the build ran out of memory", {}),
    );
    const r = await run([
      "--memory",
      "64m",
      "--check",
      "true",
      "--verdict",
      "checks",
      "--max-iterations",
      "1",
    ]);
    expect(r.code, r.stderr).toBe(1);
    const log = readFileSync(join(r.dir as string, "iterations/01/build.log"), "utf8");
    expect(log).toMatch(/137|killed/i);
    expect(log).not.toContain("needs BuildKit");
    expect(log).not.toContain("--mount option requires BuildKit");
  });

  it("doctor names Podman and its builder, and its trial build and run pass", async () => {
    const r = await runCli(
      ["doctor", "--model", "gpt-test", "--base-url", server.url, "--base-image", BUSYBOX],
      {
        cwd: tempDir(),
        env: { OPENAI_API_KEY: KEY, DOCKER_HOST: PODMAN_HOST },
      },
    );
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/✔ docker +Podman \S+ .*builds with Buildah/);
    expect(r.stdout).toContain("✔ sandbox");
  });

  it("clean removes a run's image from Podman", async () => {
    server.enqueue(generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "hi"]\n`, {}));
    const r = await run(["--check", "true", "--verdict", "checks", "--max-iterations", "1"]);
    expect(r.code, r.stderr).toBe(0);
    const clean = await runCli(["clean", "--out", join(r.cwd, "runs"), "--yes"], {
      cwd: r.cwd,
      env: { DOCKER_HOST: PODMAN_HOST },
    });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain(r.json.runId);
    await expect(podman.getImage(r.json.image).inspect()).rejects.toBeTruthy();
  });
});
