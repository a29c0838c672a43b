import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/config/defaults.js";
import type { Config } from "../../src/config/schema.js";
import { UsageError } from "../../src/core/errors.js";
import { checksOf } from "../../src/core/state.js";
import { checkOptionsFrom, checkViewOf, MAX_CHECKS_BYTES } from "../../src/engine/checks.js";
import { freshState } from "../helpers/fakes.js";
import { thrown } from "../helpers/thrown.js";
import { tempDir } from "../helpers/tmp.js";

const config = (over: Partial<Config>): Config => ({ ...DEFAULTS, ...over });

describe("checks, service and verdict options (usage errors before any token)", () => {
  it("defaults: no checks, the judge decides", () => {
    expect(checkOptionsFrom(config({}), "/")).toEqual({
      checks: { commands: [], dir: null, hide: false, timeoutMs: null, image: null, need: null },
      service: null,
      verdict: "judge",
    });
  });

  it("with checks the default verdict is both; the check timeout defaults to the run timeout", () => {
    const o = checkOptionsFrom(config({ checks: ["true"], checkTimeout: 5 }), "/");
    expect(o.verdict).toBe("both");
    expect(o.checks.timeoutMs).toBe(5000);
    // Without --check-timeout a check gets the run timeout as it is then, raised on resume too.
    const plain = freshState(checkOptionsFrom(config({ checks: ["true"] }), "/")).options;
    expect(plain.checks?.timeoutMs).toBeNull();
    expect(checksOf(plain).timeoutMs).toBe(plain.limits.runTimeoutMs);
    plain.limits.runTimeoutMs = 900_000;
    expect(checksOf(plain).timeoutMs).toBe(900_000);
  });

  it.each([
    [{ checksDir: "x" }, "no --check command runs them"],
    [{ verdict: "checks" as const }, "needs at least one --check"],
    [{ service: true }, "--service needs --ready"],
    [{ checksNeed: "python3 and PyYAML" }, "--checks-need says what the checks need, and no --check"],
    [{ service: true, ready: "true" }, "--service needs at least one --check"],
    [{ ready: "true" }, "--ready is for a service"],
    [{ checks: ["true"], checksDir: "missing" }, "does not exist"],
  ])("%o is refused: %s", (over, message) => {
    const error = thrown(() => checkOptionsFrom(config(over), tempDir()));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(message);
  });

  it("a checks folder over the size bound is refused, naming the bound", () => {
    const dir = tempDir({ "checks/a.txt": "x" });
    writeFileSync(join(dir, "checks/big.bin"), Buffer.alloc(MAX_CHECKS_BYTES + 1));
    const error = thrown(() => checkOptionsFrom(config({ checks: ["true"], checksDir: "checks" }), dir));
    expect((error as Error).message).toContain("the limit is 10 MiB");
  });

  it("a checks folder that is a file is refused", () => {
    const dir = tempDir({ "checks.txt": "x" });
    const error = thrown(() => checkOptionsFrom(config({ checks: ["true"], checksDir: "checks.txt" }), dir));
    expect((error as Error).message).toContain("is not a folder");
  });

  it("the model's view: files shown, or only their names when hidden", () => {
    const dir = tempDir({ "checks/test_a.py": "assert 1\n", "checks/sub/data.txt": "d" });
    const shown = checkOptionsFrom(config({ checks: ["pytest"], checksDir: "checks" }), dir);
    const view = checkViewOf(freshState(shown).options);
    expect(view?.names).toEqual(["sub/data.txt", "test_a.py"]);
    expect(view?.files?.[1]).toEqual({ path: "test_a.py", content: "assert 1\n" });
    const hidden = checkOptionsFrom(
      config({ checks: ["pytest"], checksDir: "checks", hideChecks: true }),
      dir,
    );
    expect(checkViewOf(freshState(hidden).options)?.files).toBeNull();
  });
});
