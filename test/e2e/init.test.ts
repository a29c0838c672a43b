import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { generation, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { onlyRunDir, readRun } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-init-0123456789";
const { server, images } = loopbackModel();

describeDocker("azlon init, then azlon run in that folder (real engine, loopback model)", () => {
  it("the project's .azlonrc.yaml and the user's config.yaml it writes are what the run uses, without --trust-config", async () => {
    const cwd = tempDir();
    const xdg = tempDir();
    const env = { OPENAI_API_KEY: KEY, XDG_CONFIG_HOME: xdg };
    // The user's own endpoint, then the project's model and check: no questions from a script.
    const user = await runCli(["init", "--global", "--base-url", server.url], { cwd, env });
    expect(user.code, user.stderr).toBe(0);
    expect(user.stdout).toContain(`wrote ${join(xdg, "azlon", "config.yaml")}`);
    const check = "sh /greet.sh | grep -q 'hello, world'";
    const project = await runCli(["init", "--model", "gpt-test", "--check", check], { cwd, env });
    expect(project.code, project.stderr).toBe(0);
    const file = join(cwd, ".azlonrc.yaml");
    expect(project.stdout.split("\n")[0]).toBe(`wrote ${file}`);
    expect(project.stdout).toContain("azlon doctor");
    expect(project.stderr).toBe("");
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^# azlon's settings for this project/);
    expect(text).not.toMatch(/^baseUrl/m);

    server.enqueue(
      generation(`FROM ${BUSYBOX}\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n`, {
        "greet.sh": 'echo "hello, world"\n',
      }),
      pass(["hello, world"]),
    );
    // No --model, --base-url or --check: the two files say them; the project's is not trusted.
    const run = await runCli(
      ["run", "--prompt", "a script that greets", "--tests", "it prints hello, world", "--json"],
      {
        cwd,
        env,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    images.push(result.image);
    expect(result).toMatchObject({ status: "passed", checks: { total: 1, passed: 1 } });
    const state = readRun(onlyRunDir(join(cwd, "azlon-runs")));
    expect(state.options).toMatchObject({
      model: "gpt-test",
      baseUrl: server.url,
      maxIterations: 20,
      limits: { memoryBytes: 2 ** 30, cpus: 1, pids: 256, network: "none", runTimeoutMs: 300_000 },
      checks: { commands: [check] },
    });
    expect(server.chatRequests[0]?.body?.model).toBe("gpt-test");
  });
});

describe("azlon init (the built CLI)", () => {
  const env = (extra: Record<string, string> = {}) => ({ XDG_CONFIG_HOME: tempDir(), ...extra });

  it.each([
    [".azlonrc.json", '{ "maxIterations": 3 }\n'],
    [".azlonrc", "maxIterations: 3\n"],
    [".config/azlonrc.yaml", "maxIterations: 3\n"],
    ["package.json", '{ "name": "app", "azlon": { "maxIterations": 3 } }\n'],
    [".azlonrc.yaml", ""],
  ])(
    "refuses to overwrite a config already there (%s): exit 2 naming it, the file unchanged",
    async (name, content) => {
      const cwd = tempDir({ [name]: content });
      const r = await runCli(["init"], { cwd, env: env() });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `azlon: ${join(cwd, name)} exists already: azlon init writes a new config and never overwrites one\n` +
          "  fix: edit it, or move it away and run azlon init again\n",
      );
      expect(readFileSync(join(cwd, name), "utf8")).toBe(content);
      if (name !== ".azlonrc.yaml") expect(existsSync(join(cwd, ".azlonrc.yaml"))).toBe(false);
    },
  );

  it("a package.json without an azlon key is no config: init writes beside it", async () => {
    const cwd = tempDir({ "package.json": '{ "name": "app" }\n' });
    const r = await runCli(["init"], { cwd, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(cwd, ".azlonrc.yaml"), "utf8")).toContain("model: gpt-4.1-mini\n");
  });

  it("--global writes $XDG_CONFIG_HOME/azlon/config.yaml (else ~/.config/azlon/config.yaml), for the user only, and never over one", async () => {
    const xdg = tempDir();
    const r = await runCli(["init", "--global", "--base-url", "http://127.0.0.1:8080/v1"], {
      cwd: tempDir(),
      env: { XDG_CONFIG_HOME: xdg },
    });
    expect(r.code, r.stderr).toBe(0);
    const path = join(xdg, "azlon", "config.yaml");
    expect(readFileSync(path, "utf8")).toContain("\nbaseUrl: http://127.0.0.1:8080/v1\n");
    expect(readFileSync(path, "utf8")).toMatch(/^# Your own azlon settings/);
    // Mode 600: the endpoint's URL may carry a token of its own.
    const { statSync } = await import("node:fs");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = await runCli(["init", "--global"], { cwd: tempDir(), env: { XDG_CONFIG_HOME: xdg } });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${path} exists already`);
    // A relative XDG_CONFIG_HOME is ignored, as the XDG spec says: the home folder's .config.
    const home = tempDir();
    const byHome = await runCli(["init", "--global"], {
      cwd: tempDir(),
      env: { HOME: home, XDG_CONFIG_HOME: "rel" },
    });
    expect(byHome.code, byHome.stderr).toBe(0);
    expect(existsSync(join(home, ".config", "azlon", "config.yaml"))).toBe(true);
  });

  it("--base-url without --global is refused: the endpoint is the user's, not the project's", async () => {
    const cwd = tempDir();
    const r = await runCli(["init", "--base-url", "http://127.0.0.1:8080/v1"], { cwd, env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the endpoint is yours, not the project's");
    expect(r.stderr).toContain(
      "fix: put it in your own config: azlon init --global --base-url http://127.0.0.1:8080/v1",
    );
    expect(r.stderr).toContain("OPENAI_BASE_URL");
    expect(existsSync(join(cwd, ".azlonrc.yaml"))).toBe(false);
  });

  it("asks nothing from a pipe: what stdin holds is not taken as an answer", async () => {
    const cwd = tempDir();
    const r = await runCli(["init"], { cwd, env: env(), input: "gpt-from-a-pipe\nsh /evil.sh\n" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const text = readFileSync(join(cwd, ".azlonrc.yaml"), "utf8");
    expect(text).toContain("model: gpt-4.1-mini\n");
    expect(text).not.toContain("evil");
  });

  it("a bad value is refused before anything is written", async () => {
    const cwd = tempDir();
    const r = await runCli(["init", "--global", "--base-url", "not a url"], {
      cwd,
      env: { XDG_CONFIG_HOME: join(cwd, "xdg") },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--base-url must be");
    expect(existsSync(join(cwd, "xdg"))).toBe(false);
  });
});
