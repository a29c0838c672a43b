import { describe, expect, it } from "vitest";
import { flagSource, resolveConfig, validateLayer } from "../../src/config/load.js";
import { ConfigError } from "../../src/core/errors.js";
import { hasUrlCredentials } from "../../src/util/secrets.js";
import { thrown } from "../helpers/thrown.js";
import { tempDir } from "../helpers/tmp.js";

const PASSWORD = "hunter2-base-url";
const URL_WITH_PASSWORD = `http://alice:${PASSWORD}@127.0.0.1:8000/v1`;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

function expectRefused(error: Error, name: string): void {
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.message).toContain(name);
  expect(error.message).toContain("user name or password");
  expect((error as ConfigError).hint).toContain("OPENAI_API_KEY");
  expect(`${error.message} ${(error as ConfigError).hint}`).not.toContain(PASSWORD);
  expect(`${error.message} ${(error as ConfigError).hint}`).not.toContain("alice");
}

describe("a base URL with credentials is refused wherever it comes from", () => {
  const project = () => tempDir({ "package.json": '{ "name": "demo" }' });

  it("--base-url", async () => {
    const error = await rejection(
      resolveConfig({ cwd: project(), env: {}, flags: { baseUrl: URL_WITH_PASSWORD }, configPath: null }),
    );
    expectRefused(error, "--base-url");
  });

  it("OPENAI_BASE_URL", async () => {
    const error = await rejection(
      resolveConfig({
        cwd: project(),
        env: { OPENAI_BASE_URL: URL_WITH_PASSWORD },
        flags: {},
        configPath: null,
      }),
    );
    expectRefused(error, "OPENAI_BASE_URL");
  });

  it("the config file", async () => {
    const cwd = tempDir({
      "package.json": '{ "name": "demo" }',
      ".azlonrc.json": JSON.stringify({ baseUrl: URL_WITH_PASSWORD }),
    });
    const error = await rejection(resolveConfig({ cwd, env: {}, flags: {}, configPath: null }));
    expectRefused(error, '"baseUrl"');
  });

  it("`resume --base-url` (validated as a layer of its own)", () => {
    const error = thrown(() => validateLayer({ baseUrl: URL_WITH_PASSWORD }, flagSource("resume")));
    expectRefused(error, "--base-url");
  });

  it("a user name alone is a credential too (a token as the user); other URLs pass", async () => {
    expect(hasUrlCredentials("https://sk-token@api.example.com/v1")).toBe(true);
    expect(hasUrlCredentials(URL_WITH_PASSWORD)).toBe(true);
    expect(hasUrlCredentials("http://localhost:11434/v1")).toBe(false);
    expect(hasUrlCredentials("https://example.com/v1?user=a@b")).toBe(false);
    const { config } = await resolveConfig({
      cwd: project(),
      env: {},
      flags: { baseUrl: "http://localhost:11434/v1" },
      configPath: null,
    });
    expect(config.baseUrl).toBe("http://localhost:11434/v1");
  });
});
