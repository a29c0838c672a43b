import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ResolveInput, resolveConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/core/errors.js";
import { tempDir } from "../helpers/tmp.js";

// The rules of trust.ts, case by case: what a config azlon finds may and may not do, what the
// user's own config may, and how the layers meet.

/** A cloned repository: a package.json (where the search stops) and the author's files. */
function repo(files: Record<string, string> = {}): string {
  return tempDir({ "package.json": '{ "name": "cloned" }', ...files });
}

function input(cwd: string, overrides: Partial<ResolveInput> = {}): ResolveInput {
  return { cwd, env: {}, flags: {}, configPath: null, ...overrides };
}

async function refusal(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).hint).toContain("--trust-config");
    return error as ConfigError;
  }
  throw new Error("expected a refusal");
}

const AUTHOR = "http://author.example/v1";

describe("the endpoint of a found config", () => {
  it.each([
    ["null (OpenAI, the default)", null],
    ["the default written out, with a trailing slash", "https://api.openai.com/v1/"],
  ])("may be %s when the user chose nothing", async (_, baseUrl) => {
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ baseUrl }) });
    const { config, trusted } = await resolveConfig(input(cwd));
    expect(config.baseUrl).toBe(baseUrl);
    expect(trusted).toBe(false);
  });

  it("may not be another", async () => {
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ baseUrl: AUTHOR }) });
    const error = await refusal(resolveConfig(input(cwd)));
    expect(error.message).toContain(`"baseUrl" in ${join(cwd, ".azlonrc.json")} would send your API key to`);
  });

  it("is harmless when the environment or a flag sets the endpoint: theirs is used", async () => {
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ baseUrl: AUTHOR }) });
    const env = { OPENAI_BASE_URL: "http://localhost:11434/v1" };
    expect((await resolveConfig(input(cwd, { env }))).config.baseUrl).toBe(env.OPENAI_BASE_URL);
    const flags = { baseUrl: "http://localhost:8000/v1" };
    expect((await resolveConfig(input(cwd, { flags }))).config.baseUrl).toBe(flags.baseUrl);
  });

  it("may not send the key back to OpenAI (null) when the user's config chose a server", async () => {
    const xdg = tempDir({ "azlon/config.yaml": "baseUrl: http://localhost:11434/v1\n" });
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ baseUrl: null }) });
    const error = await refusal(resolveConfig(input(cwd, { env: { XDG_CONFIG_HOME: xdg } })));
    expect(error.message).toContain("would send your API key to https://api.openai.com/v1");
  });

  it.each([
    ["AZLON_TRUST_CONFIG=1", { env: { AZLON_TRUST_CONFIG: "1" } }],
    ["AZLON_TRUST_CONFIG=true", { env: { AZLON_TRUST_CONFIG: "true" } }],
    ["--trust-config", { trustConfig: true }],
  ])("may be anything when trusted (%s)", async (_, overrides) => {
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ baseUrl: AUTHOR }) });
    const resolved = await resolveConfig(input(cwd, overrides));
    expect(resolved.config.baseUrl).toBe(AUTHOR);
    expect(resolved.trusted).toBe(true);
  });

  it.each(["0", "false", ""])("AZLON_TRUST_CONFIG=%j trusts nothing", async (value) => {
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ baseUrl: AUTHOR }) });
    await refusal(resolveConfig(input(cwd, { env: { AZLON_TRUST_CONFIG: value } })));
  });

  it("AZLON_TRUST_CONFIG with a value that means neither is a ConfigError naming it", async () => {
    await expect(resolveConfig(input(repo(), { env: { AZLON_TRUST_CONFIG: "maybe" } }))).rejects.toThrow(
      'AZLON_TRUST_CONFIG must be 1 (trust the config azlon finds) or 0 (got "maybe")',
    );
  });
});

describe("a found config may not loosen the box or the meter", () => {
  it.each([
    ["network: bridge (the model's programs on the network)", { network: "bridge" }, "network"],
    ["builder: buildkit (build steps free of the memory limit)", { builder: "buildkit" }, "builder"],
    [
      "prices (a cheaper meter defeats --max-cost)",
      { prices: { "gpt-test": { input: 0, output: 0 } } },
      "prices",
    ],
  ])("%s is refused unless trusted", async (_, layer, key) => {
    const cwd = repo({ ".azlonrc.json": JSON.stringify(layer) });
    const error = await refusal(resolveConfig(input(cwd)));
    expect(error.message).toContain(`"${key}"`);
    expect(error.message).toContain("may not loosen");
    const trusted = await resolveConfig(input(cwd, { env: { AZLON_TRUST_CONFIG: "1" } }));
    expect(trusted.trusted).toBe(true);
  });

  it("what tightens is fine: network none, builder classic, and a flag the user gave wins unrefused", async () => {
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ network: "none", builder: "classic" }) });
    expect((await resolveConfig(input(cwd))).config.builder).toBe("classic");
    const bridge = repo({ ".azlonrc.json": JSON.stringify({ network: "bridge" }) });
    expect((await resolveConfig(input(bridge, { flags: { network: "none" } }))).config.network).toBe("none");
  });
});

describe("the paths of a found config stay in its folder", () => {
  it("relative ones inside are fine, from a subfolder too", async () => {
    const cwd = repo({
      ".azlonrc.json": JSON.stringify({
        out: "runs",
        checksDir: "checks",
        prompts: { generateUser: "p/u.md" },
      }),
      "checks/t.sh": "exit 0\n",
      "sub/.keep": "",
    });
    const { config } = await resolveConfig(input(join(cwd, "sub")));
    expect(config.prompts.generateUser).toBe(join(cwd, "p/u.md"));
  });

  it.each([
    ["out", "../elsewhere"],
    ["checksDir", "/etc"],
  ])("%s at %s is refused", async (key, value) => {
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ [key]: value }) });
    const error = await refusal(resolveConfig(input(cwd)));
    expect(error.message).toContain(`"${key}" in ${join(cwd, ".azlonrc.json")} names`);
    expect(error.message).toContain(`outside the folder it was found in (${cwd})`);
  });

  it("out given by the user (--out) leaves the file's unused, and unrefused", async () => {
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ out: "/tmp/the-authors-runs" }) });
    const { config } = await resolveConfig(input(cwd, { flags: { out: "mine" } }));
    expect(config.out).toBe("mine");
  });

  it("a checks folder that is a link out of the folder is refused", async () => {
    const outside = tempDir({ id_rsa: "the user's key" });
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ checksDir: "tests" }) });
    symlinkSync(outside, join(cwd, "tests"));
    const error = await refusal(resolveConfig(input(cwd)));
    expect(error.message).toContain(`leads to ${outside} (a symbolic link)`);
  });

  it("a config file that is itself a link out of the folder is refused before it is read", async () => {
    const elsewhere = tempDir({ "theirs.json": JSON.stringify({ model: "x" }) });
    const cwd = repo();
    symlinkSync(join(elsewhere, "theirs.json"), join(cwd, ".azlonrc.json"));
    const error = await refusal(resolveConfig(input(cwd)));
    expect(error.message).toContain(
      `${join(cwd, ".azlonrc.json")} leads to ${join(elsewhere, "theirs.json")}`,
    );
  });

  it("its folder is where it was found: .config/azlonrc governs the folder that holds .config", async () => {
    const cwd = repo({ ".config/azlonrc.json": JSON.stringify({ prompts: { generateUser: "../p/u.md" } }) });
    const { config } = await resolveConfig(input(cwd));
    expect(config.prompts.generateUser).toBe(join(cwd, "p/u.md"));
  });

  it("$import (cosmiconfig's) is not followed: it is an unknown key", async () => {
    const elsewhere = tempDir({ "x.json": JSON.stringify({ baseUrl: AUTHOR }) });
    const cwd = repo({ ".azlonrc.json": JSON.stringify({ $import: join(elsewhere, "x.json") }) });
    await expect(resolveConfig(input(cwd))).rejects.toThrow('unknown key "$import"');
  });
});

describe("a found config that is code", () => {
  const code =
    'require("node:fs").writeFileSync(__dirname + "/ran", "x"); module.exports = { model: "js" };\n';

  it.each([
    ".azlonrc.js",
    ".azlonrc.cjs",
    ".azlonrc.ts",
    ".azlonrc.mjs",
    ".config/azlonrc.js",
    "azlon.config.cjs",
    "azlon.config.ts",
  ])("%s is refused untrusted and never run", async (name) => {
    const cwd = repo({ [name]: code });
    const error = await refusal(resolveConfig(input(cwd)));
    expect(error.message).toBe(
      `${join(cwd, name)} is code (a JavaScript or TypeScript config), and azlon runs a config it finds only when you trust it`,
    );
    expect(existsSync(join(cwd, "ran"))).toBe(false);
    expect(existsSync(join(cwd, ".config/ran"))).toBe(false);
  });

  it("an empty one is passed over, as an empty .azlonrc is", async () => {
    const cwd = repo({ "azlon.config.js": "\n", ".azlonrc": "\n" });
    expect((await resolveConfig(input(cwd))).configPath).toBeNull();
  });

  it("runs when named with --config", async () => {
    const cwd = repo({ "ci.config.cjs": code });
    const { config } = await resolveConfig(input(cwd, { configPath: "ci.config.cjs" }));
    expect(config.model).toBe("js");
    expect(existsSync(join(cwd, "ran"))).toBe(true);
  });
});

describe("the user's own config", () => {
  it("is a layer under the project's: the project's keys win, prompts and prices merge by name", async () => {
    const xdg = tempDir({
      "azlon/config.yml": [
        "model: user-model",
        "maxIterations: 7",
        "baseUrl: http://localhost:11434/v1",
        "prompts: { generateSystem: rules.md }",
        "prices: { user-model: { input: 1, output: 2 } }",
      ].join("\n"),
    });
    const cwd = repo({
      ".azlonrc.json": JSON.stringify({
        model: "project-model",
        prompts: { validateSystem: "judge.md" },
        prices: { "project-model": { input: 3, output: 4 } },
      }),
    });
    // Trusted: a found config may set prices only then (they are what --max-cost is kept by).
    const { config, sources, userConfigPath } = await resolveConfig(
      input(cwd, { env: { XDG_CONFIG_HOME: xdg, AZLON_TRUST_CONFIG: "1" } }),
    );
    expect(userConfigPath).toBe(join(xdg, "azlon/config.yml"));
    expect(config).toMatchObject({
      model: "project-model",
      maxIterations: 7,
      baseUrl: "http://localhost:11434/v1",
    });
    expect(sources).toMatchObject({ model: "config", maxIterations: "user", baseUrl: "user" });
    // The user's template lives outside any project: theirs to name.
    expect(config.prompts).toEqual({
      generateSystem: join(xdg, "azlon/rules.md"),
      validateSystem: join(cwd, "judge.md"),
    });
    expect(Object.keys(config.prices).sort()).toEqual(["project-model", "user-model"]);
  });

  it("is ~/.config/azlon when XDG_CONFIG_HOME is unset or relative", async () => {
    const home = tempDir({ ".config/azlon/config.json": JSON.stringify({ model: "home-model" }) });
    for (const env of [{ HOME: home }, { HOME: home, XDG_CONFIG_HOME: "relative/dir" }]) {
      expect((await resolveConfig(input(repo(), { env }))).config.model).toBe("home-model");
    }
  });

  it("a bad value in it names the file", async () => {
    const xdg = tempDir({ "azlon/config.yaml": "maxIterations: lots\n" });
    await expect(resolveConfig(input(repo(), { env: { XDG_CONFIG_HOME: xdg } }))).rejects.toThrow(
      `"maxIterations" in ${join(xdg, "azlon/config.yaml")} must be`,
    );
  });

  it("a folder where the file would be is passed over", async () => {
    const xdg = tempDir({ "azlon/config.json": JSON.stringify({ model: "json-model" }) });
    mkdirSync(join(xdg, "azlon/config.yaml"), { recursive: true });
    const resolved = await resolveConfig(input(repo(), { env: { XDG_CONFIG_HOME: xdg } }));
    expect(resolved.userConfigPath).toBe(join(xdg, "azlon/config.json"));
  });
});
