import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/load.js";
import { DEFAULTS } from "../../src/config/schema.js";
import { ROOT } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

describe(".azlonrc.example", () => {
  it("is a valid config that states every key with its real default", async () => {
    const dir = tempDir({ "package.json": "{}" });
    copyFileSync(join(ROOT, ".azlonrc.example"), join(dir, ".azlonrc"));
    const { config, sources, configPath } = await resolveConfig({
      cwd: dir,
      env: {},
      flags: {},
      configPath: null,
    });
    expect(configPath).toBe(join(dir, ".azlonrc"));
    expect(config).toEqual(DEFAULTS);
    for (const key of Object.keys(DEFAULTS)) {
      expect(sources[key as keyof typeof DEFAULTS], `${key} is not in .azlonrc.example`).toBe("config");
    }
    const text = readFileSync(join(ROOT, ".azlonrc.example"), "utf8");
    for (const key of Object.keys(DEFAULTS)) expect(text).toMatch(new RegExp(`^${key}:`, "m"));
  });
});
