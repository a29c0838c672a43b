import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/config/defaults.js";
import { flagName, type ResolveInput, resolveConfig } from "../../src/config/load.js";
import { ACCEPTS } from "../../src/config/wording.js";
import { ConfigError } from "../../src/core/errors.js";
import { tempDir } from "../helpers/tmp.js";

/** A project folder: a package.json (where cosmiconfig's search stops) and the given files. */
function project(files: Record<string, string> = {}): string {
  return tempDir({ "package.json": '{ "name": "demo" }', ...files });
}

function input(cwd: string, overrides: Partial<ResolveInput> = {}): ResolveInput {
  return { cwd, env: {}, flags: {}, configPath: null, ...overrides };
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("resolveConfig", () => {
  it("with no config file, every key has its default", async () => {
    const resolved = await resolveConfig(input(project()));
    expect(resolved.config).toEqual(DEFAULTS);
    expect(resolved.configPath).toBeNull();
    expect(new Set(Object.values(resolved.sources))).toEqual(new Set(["default"]));
  });

  it("a .azlonrc.json overrides the defaults", async () => {
    const root = project({ ".azlonrc.json": JSON.stringify({ model: "file-model", maxIterations: 5 }) });
    const resolved = await resolveConfig(input(root));
    expect(resolved.config).toMatchObject({ model: "file-model", maxIterations: 5, runTimeout: 300 });
    expect(resolved.configPath).toBe(join(root, ".azlonrc.json"));
    expect(resolved.sources).toMatchObject({
      model: "config",
      maxIterations: "config",
      runTimeout: "default",
    });
  });

  it("a YAML .azlonrc works too", async () => {
    const root = project({ ".azlonrc": "model: yaml-model\nmemory: 2g\n" });
    const resolved = await resolveConfig(input(root));
    expect(resolved.config).toMatchObject({ model: "yaml-model", memory: "2g" });
  });

  it("precedence: flags > environment > config file > defaults", async () => {
    const root = project({
      ".azlonrc.json": JSON.stringify({
        model: "file-model",
        baseUrl: "http://file.example/v1",
        maxIterations: 5,
        memory: "2g",
      }),
    });
    const env = { AZLON_MODEL: "env-model", OPENAI_BASE_URL: "http://env.example/v1" };

    const fromEnv = await resolveConfig(input(root, { env }));
    expect(fromEnv.config).toMatchObject({
      model: "env-model",
      baseUrl: "http://env.example/v1",
      maxIterations: 5,
      memory: "2g",
      cpus: 1,
    });
    expect(fromEnv.sources).toMatchObject({
      model: "env",
      baseUrl: "env",
      maxIterations: "config",
      cpus: "default",
    });

    const fromFlags = await resolveConfig(
      input(root, { env, flags: { model: "flag-model", maxIterations: "7", cpus: "2.5" } }),
    );
    expect(fromFlags.config).toMatchObject({
      model: "flag-model",
      baseUrl: "http://env.example/v1",
      maxIterations: 7,
      cpus: 2.5,
      memory: "2g",
    });
    expect(fromFlags.sources).toMatchObject({ model: "flag", maxIterations: "flag", baseUrl: "env" });
  });

  it("flags left undefined do not hide lower layers", async () => {
    const root = project({ ".azlonrc.json": JSON.stringify({ model: "file-model" }) });
    const resolved = await resolveConfig(input(root, { flags: { model: undefined } }));
    expect(resolved.config.model).toBe("file-model");
  });

  it("finds the project's config from a subfolder", async () => {
    const root = project({
      ".azlonrc.json": JSON.stringify({ model: "project-model" }),
      "src/deep/er/.keep": "",
    });
    const resolved = await resolveConfig(input(join(root, "src/deep/er")));
    expect(resolved.config.model).toBe("project-model");
    expect(resolved.configPath).toBe(join(root, ".azlonrc.json"));
  });

  it("stops at the nearest package.json: a nested package does not see the outer config", async () => {
    const root = project({
      ".azlonrc.json": JSON.stringify({ model: "outer-model" }),
      "packages/app/package.json": '{ "name": "app" }',
    });
    const resolved = await resolveConfig(input(join(root, "packages/app")));
    expect(resolved.config.model).toBe(DEFAULTS.model);
    expect(resolved.configPath).toBeNull();
  });

  it("an unknown key is a ConfigError naming it and the file", async () => {
    const root = project({ ".azlonrc.json": JSON.stringify({ modle: "typo" }) });
    const error = await configError(resolveConfig(input(root)));
    expect(error.message).toContain('"modle"');
    expect(error.message).toContain(join(root, ".azlonrc.json"));
    expect(error.exitCode).toBe(2);
  });

  it("an unknown key under prompts is named with its path", async () => {
    const root = project({ ".azlonrc.json": JSON.stringify({ prompts: { judge: "j.md" } }) });
    const error = await configError(resolveConfig(input(root)));
    expect(error.message).toContain('"prompts.judge"');
  });

  it.each([
    ["maxIterations", "abc"],
    ["maxIterations", 0],
    ["memory", "lots"],
    ["memory", "1m"],
    ["network", "host"],
    ["baseUrl", "not a url"],
  ])("a bad value of %s (%j) in the file is a ConfigError naming the key", async (key, value) => {
    const root = project({ ".azlonrc.json": JSON.stringify({ [key]: value }) });
    const error = await configError(resolveConfig(input(root)));
    expect(error.message).toContain(`"${key}"`);
  });

  it.each([
    ["maxIterations", "abc", '--max-iterations must be a whole number from 1 to 1000 (got "abc")'],
    ["maxIterations", "2.5", "--max-iterations must be a whole number from 1 to 1000 (got 2.5)"],
    ["runTimeout", "-5", "--run-timeout must be a number of seconds greater than 0 (got -5)"],
    ["memory", "lots", '--memory must be a size of at least 6 MiB, such as "512m" or "2g" (got "lots")'],
    ["network", "host", '--network must be "none" or "bridge" (got "host")'],
    ["baseUrl", "nope", '--base-url must be a URL such as http://localhost:11434/v1 (got "nope")'],
    ["pids", "4", "--pids must be a whole number from 16 to 1000000 (got 4)"],
    ["model", "", '--model must be a model name (not empty) (got "")'],
  ])("a bad flag value of %s (%j) is said in azlon's words: %s", async (key, value, message) => {
    const error = await configError(resolveConfig(input(project(), { flags: { [key]: value } })));
    expect(error.message).toBe(message);
    expect(error.hint).toBe("see `azlon run --help`");
  });

  it("no error about a value is in zod's words", async () => {
    for (const [key, value] of [
      ["maxIterations", "0"],
      ["cpus", "0"],
      ["maxCost", "-1"],
      ["temperature", "3"],
      ["structuredOutput", "xml"],
    ] as const) {
      const error = await configError(resolveConfig(input(project(), { flags: { [key]: value } })));
      expect(error.message).not.toMatch(/Invalid input|Too small|Too big|expected (number|int|string)/);
      expect(error.message).toContain(flagName(key));
    }
  });

  it("a bad value in the file names the key, the file and the value; the fix names that file", async () => {
    const root = project({ ".azlonrc.json": JSON.stringify({ maxIterations: "abc" }) });
    const error = await configError(resolveConfig(input(root)));
    const file = join(root, ".azlonrc.json");
    expect(error.message).toBe(
      `"maxIterations" in ${file} must be a whole number from 1 to 1000 (got "abc")`,
    );
    expect(error.hint).toBe(`fix it in ${file}`);
    expect(error.hint).not.toContain(".azlonrc.example");
  });

  it("a mistyped key in the file gets the likely one suggested", async () => {
    const root = project({ ".azlonrc.json": JSON.stringify({ maxIteration: 3 }) });
    const error = await configError(resolveConfig(input(root)));
    expect(error.message).toBe(
      `unknown key "maxIteration" (did you mean "maxIterations"?) in ${join(root, ".azlonrc.json")}`,
    );
  });

  it("a bad nested value is named with its path", async () => {
    const root = project({ ".azlonrc.json": JSON.stringify({ prices: { m: { input: -1, output: 1 } } }) });
    const error = await configError(resolveConfig(input(root)));
    expect(error.message).toContain('"prices.m.input"');
    expect(error.message).toContain("a number of at least 0 (got -1)");
  });

  it("a bad environment value names the variable", async () => {
    const error = await configError(
      resolveConfig(input(project(), { env: { OPENAI_BASE_URL: "localhost" } })),
    );
    expect(error.message).toBe(
      'OPENAI_BASE_URL must be a URL such as http://localhost:11434/v1 (got "localhost")',
    );
    expect(error.hint).toBe("fix or unset OPENAI_BASE_URL");
  });

  it("prompt paths in the config file are relative to that file, not to the working folder", async () => {
    const root = project({
      ".azlonrc.json": JSON.stringify({ prompts: { validateUser: "prompts/judge.md" } }),
      "sub/.keep": "",
    });
    const resolved = await resolveConfig(input(join(root, "sub")));
    expect(resolved.config.prompts).toEqual({ validateUser: join(root, "prompts/judge.md") });
  });

  it("--config reads the named file, relative to the working folder", async () => {
    const root = project({
      ".azlonrc.json": JSON.stringify({ model: "searched" }),
      "ci/azlon.ci.json": JSON.stringify({ model: "explicit", prompts: { generateSystem: "gen.md" } }),
    });
    const resolved = await resolveConfig(input(root, { configPath: "ci/azlon.ci.json" }));
    expect(resolved.config.model).toBe("explicit");
    expect(resolved.configPath).toBe(join(root, "ci/azlon.ci.json"));
    expect(resolved.config.prompts).toEqual({ generateSystem: join(root, "ci/gen.md") });
  });

  it("--config with a missing file is a ConfigError naming it", async () => {
    const error = await configError(resolveConfig(input(project(), { configPath: "missing.json" })));
    expect(error.message).toContain("missing.json");
    expect(error.hint).toContain("--config");
  });

  it("a config file with broken syntax is a ConfigError", async () => {
    const root = project({ ".azlonrc.json": '{ "model": "x", }' });
    const error = await configError(resolveConfig(input(root)));
    expect(error.message).toMatch(/cannot read the config file/);
  });

  it("a config file that is not an object is a ConfigError", async () => {
    const root = project({ ".azlonrc.json": "[1, 2]" });
    await configError(resolveConfig(input(root)));
  });
});

describe("the wording of config errors", () => {
  it("every config key says what it accepts (a new key needs a line in ACCEPTS)", () => {
    for (const key of Object.keys(DEFAULTS)) expect(ACCEPTS[key as keyof typeof DEFAULTS], key).toBeTruthy();
  });
});

describe("flagName", () => {
  it.each([
    ["maxIterations", "--max-iterations"],
    ["baseUrl", "--base-url"],
    ["model", "--model"],
  ])("%s is %s", (key, flag) => {
    expect(flagName(key)).toBe(flag);
  });
});
