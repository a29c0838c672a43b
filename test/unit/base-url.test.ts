import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { flagSource, resolveConfig, validateLayer } from "../../src/config/load.js";
import { ConfigError } from "../../src/core/errors.js";
import { redactorFor } from "../../src/engine/options.js";
import { clientEndpoint, serverUrl } from "../../src/model/endpoint.js";
import {
  collectSecrets,
  hasUrlCredentials,
  maskUrlSecrets,
  Redactor,
  urlQuerySecrets,
} from "../../src/util/secrets.js";
import { RunFolder } from "../../src/workspace/run-folder.js";
import { freshState } from "../helpers/fakes.js";
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

describe("a base URL with a secret in its query (?api-key=...)", () => {
  const SECRET = "k3y-in-the-query-42";
  const BASE = `https://proxy.example.com/openai/v1?api-key=${SECRET}&api-version=2024-10-21`;

  it("the SDK gets the path alone and the query apart, so every request keeps it after its path", () => {
    expect(clientEndpoint(BASE)).toEqual({
      baseURL: "https://proxy.example.com/openai/v1",
      defaultQuery: { "api-key": SECRET, "api-version": "2024-10-21" },
    });
    // A URL without a query goes to the SDK exactly as given.
    expect(clientEndpoint("http://localhost:11434/v1/")).toEqual({ baseURL: "http://localhost:11434/v1/" });
  });

  it("llama-server's /props is found at the root, with the query", () => {
    expect(serverUrl(BASE, "/props")).toBe(
      `https://proxy.example.com/openai/props?api-key=${SECRET}&api-version=2024-10-21`,
    );
    expect(serverUrl("http://127.0.0.1:8080/v1/", "/props")).toBe("http://127.0.0.1:8080/props");
  });

  it("its secret values are masked in messages, the rest of the URL kept", () => {
    expect(maskUrlSecrets(`the endpoint at ${BASE} said no`)).toBe(
      "the endpoint at https://proxy.example.com/openai/v1?api-key=[secret]&api-version=2024-10-21 said no",
    );
    // Google's ?key=, a SAS signature, an Azure Functions code; prose around the URL survives.
    expect(maskUrlSecrets("(https://h/v1?key=abc&sig=x%2By&code=q),")).toBe(
      "(https://h/v1?key=[secret]&sig=[secret]&code=[secret]),",
    );
    expect(maskUrlSecrets(maskUrlSecrets(BASE))).toBe(maskUrlSecrets(BASE));
    expect(maskUrlSecrets("http://localhost:8000/v1?api-version=1")).toBe(
      "http://localhost:8000/v1?api-version=1",
    );
  });

  it("its secret values join the redactor's, as written and decoded, from the URL or OPENAI_BASE_URL", () => {
    expect(urlQuerySecrets("https://h/v1?token=a%2Fb-c0ffee&x=1")).toEqual(["a%2Fb-c0ffee", "a/b-c0ffee"]);
    expect(collectSecrets({ OPENAI_BASE_URL: BASE })).toEqual([SECRET]);
    expect(redactorFor({}, "sk-key-123456", BASE).redact(`echo ${SECRET}`)).toBe("echo [secret]");
  });

  it("run.json keeps it masked even when the value is too short for the redactor", () => {
    const dir = tempDir();
    const folder = new RunFolder(dir, Redactor.none());
    folder.init();
    folder.saveState(freshState({ baseUrl: "https://h/v1?key=abc" }));
    folder.close();
    const text = readFileSync(join(dir, "run.json"), "utf8");
    expect(JSON.parse(text).options.baseUrl).toBe("https://h/v1?key=[secret]");
  });
});
