import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { engineTarget } from "../helpers/engine.js";
import { fail, generation, pass } from "../helpers/fake-openai.js";
import { BUSYBOX, PYTHON } from "../helpers/images.js";
import { onlyRunDir, readRun } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * The single executable (npm run build:binary), run where there is no Node at all: the
 * Python base image is Debian with glibc and no node. The binary and a temp folder are
 * mounted in (a test may; the product never mounts host paths), the engine's socket too, and
 * the container shares the host's network to reach the loopback model.
 */
const BINARY = join(ROOT, "dist/azlon");
const KEY = "sk-test-binary-9f8e7d6c5b";
const { server, images } = loopbackModel();
const dockerfile = `FROM ${BUSYBOX}\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `azlon <args>` in a Node-less container, in `cwd` (mounted at the same path). */
function inContainer(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> {
  return startInContainer(args, cwd, env).done;
}

function startInContainer(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  name = `azlon-binary-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
): { name: string; done: Promise<Result>; output: () => string } {
  const { target } = engineTarget(process.env);
  const socket = target.options.socketPath;
  const engine = socket
    ? ["-v", `${socket}:/var/run/docker.sock`, "--group-add", String(statSync(socket).gid)]
    : ["-e", `DOCKER_HOST=${process.env.DOCKER_HOST ?? ""}`];
  const vars = Object.entries({ HOME: "/tmp", NO_COLOR: "1", ...env }).flatMap(([k, v]) => [
    "-e",
    `${k}=${v}`,
  ]);
  const user = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  const child = spawn(
    "docker",
    [
      "run",
      "--rm",
      "--name",
      name,
      "--network",
      "host",
      // The host's process ids too: azlon's sweep of dead runs' containers judges owners by pid
      // and host name, and must not take the other tests' live runs for dead ones.
      "--pid",
      "host",
      "--user",
      user,
      ...engine,
      ...vars,
      "-v",
      `${BINARY}:/usr/local/bin/azlon:ro`,
      "-v",
      `${cwd}:${cwd}`,
      "-w",
      cwd,
      PYTHON,
      "azlon",
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d;
  });
  const done = new Promise<Result>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { name, done, output: () => stdout };
}

const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;

// The executable is built for linux-x64 (scripts/build-binary.mjs), as CI runs; elsewhere this
// file cannot build or run it, and says so.
const describeBinary =
  process.platform === "linux" && process.arch === "x64"
    ? describeDocker
    : (name: string, body: () => void) => {
        console.warn(`\n*** SKIPPED "${name}": the single executable is built for linux-x64 only\n`);
        describe.skip(name, body);
      };

describeBinary("the single executable, in a container without Node", () => {
  beforeAll(() => {
    // Built here, once per test run (npm run build empties dist/): CI builds it this way.
    if (!existsSync(BINARY)) execFileSync(process.execPath, [join(ROOT, "scripts/build-binary.mjs")]);
    // The point of the exercise: the image really has no Node.
    const node = execFileSync("docker", ["run", "--rm", PYTHON, "sh", "-c", "command -v node || echo none"]);
    expect(node.toString().trim()).toBe("none");
  }, 180_000);

  it("prints its version and the same help as the Node CLI: every command is in it", async () => {
    const cwd = tempDir();
    const v = await inContainer(["-V"], cwd);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(`${version}\n`);
    const help = await inContainer(["--help"], cwd);
    expect(help.code, help.stderr).toBe(0);
    const nodeHelp = await runCli(["--help"], { cwd });
    expect(help.stdout).toBe(nodeHelp.stdout);
    for (const command of ["run", "resume", "doctor", "prompts", "batch", "bench"])
      expect(help.stdout).toContain(`  ${command} `);
  });

  it("shows and writes out the default prompts, embedded in it", async () => {
    const cwd = tempDir();
    const shown = await inContainer(["prompts", "generateSystem"], cwd);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("=== generateSystem · default (generate.system.md embedded in azlon)");
    const init = await inContainer(["prompts", "init", "mine"], cwd);
    expect(init.code, init.stderr).toBe(0);
    for (const file of readdirSync(join(ROOT, "prompts"))) {
      expect(readFileSync(join(cwd, "mine", file), "utf8")).toBe(
        readFileSync(join(ROOT, "prompts", file), "utf8"),
      );
    }
  });

  it("doctor: exit 3 without an API key, 0 with the loopback endpoint; the engine and sandbox checks pass", async () => {
    const cwd = tempDir();
    const missing = await inContainer(["doctor"], cwd);
    expect(missing.code, missing.stdout + missing.stderr).toBe(3);
    expect(missing.stdout).toMatch(/✖ api key +OPENAI_API_KEY is not set/);
    expect(missing.stdout).toMatch(/✔ docker +Docker /);
    expect(missing.stdout).toMatch(/✔ sandbox/);
    const ok = await inContainer(["doctor", "--base-url", server.url, "--model", "gpt-test"], cwd, {
      OPENAI_API_KEY: KEY,
    });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
  });

  it("bench --oracle runs shipped tasks from inside the executable, written out into its batch folder", {
    timeout: 180_000,
  }, async () => {
    const cwd = tempDir();
    const r = await inContainer(["bench", "--oracle", "--shard", "1/7", "--json"], cwd, {
      AZLON_IMAGE_MAP: `python:3.12-slim=${PYTHON}`,
    });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    for (const t of summary.tasks) images.push(t.attempts[0].image);
    expect(summary.totals).toMatchObject({ tasks: 2, passed: 2 });
    const written = join(cwd, "azlon-batches/bench-oracle/bench-tasks");
    for (const t of summary.tasks) expect(readdirSync(join(written, t.id)).length).toBeGreaterThan(1);
    expect(readFileSync(join(written, "py-wordfreq/task.yaml"), "utf8")).toBe(
      readFileSync(join(ROOT, "bench/tasks/py-wordfreq/task.yaml"), "utf8"),
    );
  });

  it("runs a whole task against the loopback model, resumes it to a pass, then runs and clean find it", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const env = { OPENAI_API_KEY: KEY };
    server.enqueue(
      generation(dockerfile, { "greet.sh": 'echo "hello, wrld"\n' }),
      fail("it prints hello, wrld", { files: { "greet.sh": 'echo "hello, world"\n' } }, ["hello, wrld"]),
    );
    const first = await inContainer(runArgs(server, out, ["--max-iterations", "1"]), cwd, env);
    expect(first.code, first.stderr).toBe(1);
    const dir = onlyRunDir(out);
    images.push(`azlon/${readRun(dir).runId}`);
    expect(JSON.parse(first.stdout)).toMatchObject({
      status: "failed",
      stopReason: "max-iterations",
      runDir: dir,
    });

    server.enqueue(pass(["hello, world"]));
    const second = await inContainer(["resume", dir, "--max-iterations", "2", "--json"], cwd, env);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: "passed", iterations: 2, runDir: dir });
    expect(readRun(dir).status).toBe("passed");
    expect(readFileSync(join(dir, "iterations/02/output.log"), "utf8")).toBe("hello, world\n");
    expect(readFileSync(join(dir, "workspace/greet.sh"), "utf8")).toBe('echo "hello, world"\n');

    // The other commands over the same folder and engine: runs lists it, clean finds its image.
    const { runId } = readRun(dir);
    const runs = await inContainer(["runs", "--out", out, "--json"], cwd);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toContain(runId);
    const clean = await inContainer(["clean", "--out", out], cwd);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain(runId);

    // report: the run as one page, its style embedded in the executable.
    const report = await inContainer(["report", dir], cwd);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain(runId);
    expect(html).toContain("<style>");

    // serve: the API over the same folder, and the page from the executable's own assets.
    const served = startInContainer(["serve", "--port", "0", "--out", out], cwd, env);
    try {
      let url = "";
      for (let i = 0; i < 100 && !url; i++) {
        url = /http:\/\/127\.0\.0\.1:\d+/.exec(served.output())?.[0] ?? "";
        if (!url) await new Promise((r) => setTimeout(r, 100));
      }
      expect(url, served.output()).not.toBe("");
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('name="prompt"');
      expect((await fetch(`${url}/assets/app.js`)).status).toBe(200);
      const list = (await (await fetch(`${url}/api/runs`)).json()) as { runs: Array<{ id: string }> };
      expect(list.runs.map((r) => r.id)).toContain(runId);
    } finally {
      execFileSync("docker", ["rm", "-f", served.name], { stdio: "ignore" });
      await served.done;
    }
  });
});
