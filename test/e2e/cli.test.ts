import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { FakeOpenAI } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-cli-0123456789";
const server = new FakeOpenAI();
beforeAll(async () => {
  await server.start();
});
afterAll(() => server.stop());

const basic = ["run", "--prompt", "x", "--tests", "y"];

describe("the CLI's surface", () => {
  it("`azlon --help` is one screen that points at each command's own help", async () => {
    const { code, stdout } = await runCli(["--help"], { cwd: tempDir() });
    expect(code).toBe(0);
    expect(stdout.trimEnd().split("\n").length).toBeLessThanOrEqual(40);
    for (const text of ["run", "--prompt", "--tests", "--model", "azlon <command> --help for more"])
      expect(stdout).toContain(text);
  });

  it("`azlon run --help` explains every flag of SPEC.md", async () => {
    const { code, stdout } = await runCli(["run", "--help"], { cwd: tempDir() });
    expect(code).toBe(0);
    for (const flag of [
      "--prompt",
      "--prompt-file",
      "--tests",
      "--tests-file",
      "--model",
      "--base-url",
      "--max-iterations",
      "--out",
      "--run-timeout",
      "--build-timeout",
      "--memory",
      "--cpus",
      "--pids",
      "--network",
      "--json",
      "--max-tokens",
      "--max-cost",
      "--max-time",
    ]) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toContain("OPENAI_API_KEY");
    expect(stdout).toContain("Exit codes");
  });

  it("no API key is exit 2 naming OPENAI_API_KEY, without a stack trace", async () => {
    const { code, stderr } = await runCli(basic, { cwd: tempDir() });
    expect(code).toBe(2);
    expect(stderr).toContain("OPENAI_API_KEY");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("a missing --tests is exit 2 with the fix", async () => {
    const { code, stderr } = await runCli(["run", "--prompt", "x"], {
      cwd: tempDir(),
      env: { OPENAI_API_KEY: KEY },
    });
    expect(code).toBe(2);
    expect(stderr).toContain("missing --tests");
  });

  it("a bad config key is a one-line error naming it, exit 2", async () => {
    const cwd = tempDir({ ".azlonrc.json": JSON.stringify({ maxIteration: 3 }) });
    const { code, stderr } = await runCli(basic, { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(code).toBe(2);
    expect(stderr.split("\n")[0]).toContain('unknown key "maxIteration"');
    expect(stderr.split("\n")[0]).toContain(".azlonrc.json");
  });

  it("a bad flag value names the flag, exit 2", async () => {
    const { code, stderr } = await runCli([...basic, "--max-iterations", "zero"], {
      cwd: tempDir(),
      env: { OPENAI_API_KEY: KEY },
    });
    expect(code).toBe(2);
    expect(stderr).toBe(
      'azlon: --max-iterations must be a whole number from 1 to 1000 (got "zero")\n  fix: see `azlon run --help`\n',
    );
  });

  it("commander's own usage errors speak as azlon too", async () => {
    const { code, stderr } = await runCli([...basic, "--network", "host"], {
      cwd: tempDir(),
      env: { OPENAI_API_KEY: KEY },
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^azlon: option '--network <mode>' argument 'host' is invalid/);
  });

  it("with --json, a usage error still prints exactly one JSON object on stdout", async () => {
    const { code, stdout } = await runCli([...basic, "--json", "--network", "host"], {
      cwd: tempDir(),
      env: { OPENAI_API_KEY: KEY },
    });
    expect(code).toBe(2);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(stdout)).toMatchObject({ status: "error", runDir: null });
  });

  it("--max-cost for a model without a price is refused before anything runs", async () => {
    const { code, stderr } = await runCli([...basic, "--model", "my-local-model", "--max-cost", "1"], {
      cwd: tempDir(),
      env: { OPENAI_API_KEY: KEY },
    });
    expect(code).toBe(2);
    expect(stderr).toContain('needs a price for model "my-local-model"');
    expect(stderr).toContain("prices");
  });

  it("an unreachable Docker engine is exit 3 within seconds, naming Docker and the address", async () => {
    const cwd = tempDir();
    const started = Date.now();
    const { code, stderr, stdout } = await runCli([...basic, "--json", "--base-url", server.url], {
      cwd,
      env: { OPENAI_API_KEY: KEY, DOCKER_HOST: `unix://${join(cwd, "no-such.sock")}` },
    });
    expect(code).toBe(3);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(stderr).toContain("Docker engine");
    expect(stderr).toContain(join(cwd, "no-such.sock"));
    expect(JSON.parse(stdout)).toMatchObject({ status: "error", runDir: null });
    expect(existsSync(join(cwd, "azlon-runs"))).toBe(false); // nothing written for a run that never started
    expect(server.chatRequests).toHaveLength(0); // and no tokens spent
  });

  it("a refused TCP engine is exit 3 too", async () => {
    const { code, stderr } = await runCli(basic, {
      cwd: tempDir(),
      env: { OPENAI_API_KEY: KEY, DOCKER_HOST: "tcp://127.0.0.1:1" },
    });
    expect(code).toBe(3);
    expect(stderr).toContain("connection refused at tcp://127.0.0.1:1");
  });

  it("`azlon prompts` shows each template and where it comes from", async () => {
    const cwd = tempDir({
      "custom.md": "Judge strictly.\n{{limits}}\n",
      ".azlonrc.json": JSON.stringify({ prompts: { validateSystem: "custom.md" } }),
    });
    const { code, stdout } = await runCli(["prompts"], { cwd });
    expect(code).toBe(0);
    expect(stdout).toContain("=== generateSystem · default");
    expect(stdout).toContain(`=== validateSystem · ${join(cwd, "custom.md")}`);
    expect(stdout).toContain("Judge strictly.");
    expect(stdout).toContain("{{tests}}");
  });

  it("`azlon prompts init` copies the defaults out, and a config using them works", async () => {
    const cwd = tempDir();
    const init = await runCli(["prompts", "init", "my-prompts"], { cwd });
    expect(init.code).toBe(0);
    for (const f of ["generate.system.md", "generate.user.md", "validate.system.md", "validate.user.md"]) {
      expect(existsSync(join(cwd, "my-prompts", f))).toBe(true);
    }
    const again = await runCli(["prompts", "init", "my-prompts"], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("--force");
    // The printed snippet is a working config.
    const snippet = /^\{\n[\s\S]*?\n\}$/m.exec(init.stdout)?.[0] ?? "";
    writeFileSync(join(cwd, ".azlonrc.json"), snippet);
    writeFileSync(join(cwd, "my-prompts/generate.user.md"), "{{tests}}\n{{prompt}}\n{{nope}}\n");
    const shown = await runCli(["prompts"], { cwd });
    expect(shown.code).toBe(2);
    expect(shown.stderr).toContain("{{nope}}");
  });

  it("`azlon doctor --model --base-url` checks that model at that endpoint, as its fix says", async () => {
    const cwd = tempDir();
    const env = { OPENAI_API_KEY: KEY, DOCKER_HOST: `unix://${join(cwd, "none.sock")}` };
    const missing = await runCli(["doctor", "--model", "no-such-model", "--base-url", server.url], {
      cwd,
      env,
    });
    expect(missing.stdout).toMatch(/✖ endpoint .*"no-such-model" is not among/);
    expect(missing.stdout).toContain("fix: choose one with --model");
    const listed = await runCli(["doctor", "--model", "gpt-test", "--base-url", server.url], { cwd, env });
    expect(listed.stdout).toMatch(
      /✔ endpoint +http:\/\/127\.0\.0\.1:\d+\/v1 answers; model "gpt-test" is listed/,
    );
    expect(listed.code).toBe(3); // the engine is missing here
  });

  it("`azlon doctor` reads llama-server's context size: too small fails, too small for the caps warns", async () => {
    const cwd = tempDir();
    const env = { OPENAI_API_KEY: KEY, DOCKER_HOST: `unix://${join(cwd, "none.sock")}` };
    const doctor = () => runCli(["doctor", "--model", "gpt-test", "--base-url", server.url], { cwd, env });
    const failedCount = (out: string) => /(\d+) checks? failed/.exec(out)?.[1];
    try {
      // No /props (OpenAI, Ollama, vLLM): no context line.
      expect((await doctor()).stdout).not.toContain("context");
      // Large: the room left for the project is named.
      server.props = { default_generation_settings: { n_ctx: 131072, params: { n_predict: -1 } } };
      const roomy = await doctor();
      expect(roomy.stdout).not.toContain("reply cap");
      expect(roomy.stdout).toMatch(
        /✔ context +llama-server holds 131,072 tokens a request: .* about [\d,]+ are left for the project \(about [\d.]+ KiB\)/,
      );
      // Too small for anything: a failed check.
      server.props = { default_generation_settings: { n_ctx: 1024 } };
      const tiny = await doctor();
      expect(tiny.stdout).toMatch(/✖ context +llama-server holds 1,024 tokens a request: too few/);
      expect(tiny.stdout).toMatch(/fix: start llama-server with -c 65536 and one slot/);
      expect(Number(failedCount(tiny.stdout))).toBe(Number(failedCount(roomy.stdout)) + 1);
      // llama-server -c 16384 -np 4: 4,096 tokens a request, less than the 16,384-token reply cap:
      // a warning (a reply the server cuts ends the run), not a failure.
      server.props = { default_generation_settings: { n_ctx: 4096 }, total_slots: 4 };
      const small = await doctor();
      expect(small.stdout).toMatch(
        /! context +llama-server holds 4,096 tokens a request: .* less than azlon's cap of 16,384/,
      );
      expect(small.stdout).toMatch(
        /fix: start llama-server with -c 65536 and one slot .* set the reply cap to 1024 /,
      );
      expect(failedCount(small.stdout)).toBe(failedCount(roomy.stdout));
      // With the cap set as the fix says, the reply fits, but a program's output of up to
      // maxOutputBytes (64 KiB) would leave no room for the project: warned too.
      writeFileSync(join(cwd, ".azlonrc.json"), JSON.stringify({ maxReplyTokens: 1024 }));
      const tight = await doctor();
      expect(tight.stdout).toMatch(
        /! context +llama-server holds 4,096 tokens a request: .* leave [\d,]+ for the project and the program's output/,
      );
      expect(tight.stdout).toMatch(/fix: .* or lower maxOutputBytes or maxReplyTokens/);
      // llama-server -n 2048 cuts every reply below azlon's cap (1024 now: fine; the default 16,384: warned).
      server.props = { default_generation_settings: { n_ctx: 131072, params: { n_predict: 2048 } } };
      expect((await doctor()).stdout).not.toContain("reply cap");
      writeFileSync(join(cwd, ".azlonrc.json"), JSON.stringify({}));
      const capped = await doctor();
      expect(capped.stdout).toMatch(
        /! reply cap +llama-server cuts every reply at 2,048 tokens \(its -n\), below azlon's cap of 16,384/,
      );
      expect(capped.stdout).toMatch(/fix: start llama-server with -n 16384 .* or set the reply cap to 2048/);
      expect(failedCount(capped.stdout)).toBe(failedCount(roomy.stdout));
      // The check asked with the key, as llama-server --api-key wants.
      const asked = server.requests.filter((r) => r.path === "/props");
      expect(asked.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
    } finally {
      server.props = null;
    }
  });

  it("`azlon doctor` does not hang on an endpoint that stalls mid-reply: no answer in time is a failed check", async () => {
    const cwd = tempDir();
    const env = { OPENAI_API_KEY: KEY, DOCKER_HOST: `unix://${join(cwd, "none.sock")}` };
    server.modelsStallMs = 60_000;
    try {
      const started = Date.now();
      const r = await runCli(["doctor", "--model", "gpt-test", "--base-url", server.url], { cwd, env });
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/✖ endpoint .*no answer/);
    } finally {
      server.modelsStallMs = null;
    }
  });

  it.each([["--version"], ["-V"], ["-v"]])("`%s` prints the package version", async (flag) => {
    const { code, stdout } = await runCli([flag], { cwd: tempDir() });
    expect(code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(__dirname, "../../package.json"), "utf8"));
    expect(stdout.trim()).toBe(pkg.version);
  });
});

describeDocker("azlon doctor", () => {
  it("passes here, one line per check", async () => {
    const cwd = tempDir({ ".azlonrc.json": JSON.stringify({ baseImage: BUSYBOX, model: "gpt-test" }) });
    const { code, stdout } = await runCli(["doctor"], {
      cwd,
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url },
    });
    expect(stdout).toMatch(/✔ config/);
    expect(stdout).toMatch(/✔ api key/);
    expect(stdout).toMatch(/✔ endpoint .*"gpt-test" is listed/);
    expect(stdout).toMatch(/✔ docker +Docker /);
    expect(stdout).toMatch(/✔ sandbox/);
    expect(code).toBe(0);
  });

  it("names the failing checks when the key and the engine are missing, exit 3", async () => {
    const cwd = tempDir();
    const { code, stdout } = await runCli(["doctor"], {
      cwd,
      env: { DOCKER_HOST: `unix://${join(cwd, "none.sock")}` },
    });
    expect(code).toBe(3);
    expect(stdout).toMatch(/✖ api key +OPENAI_API_KEY is not set/);
    expect(stdout).toMatch(/✖ docker +cannot reach the Docker engine/);
    expect(stdout).toContain("fix:");
  });

  it("names a model the endpoint does not list", async () => {
    const { code, stdout } = await runCli(["doctor"], {
      cwd: tempDir({ ".azlonrc.json": JSON.stringify({ baseImage: BUSYBOX }) }),
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url, AZLON_MODEL: "no-such-model" },
    });
    expect(code).toBe(3);
    expect(stdout).toMatch(/✖ endpoint .*"no-such-model" is not among/);
  });
});
