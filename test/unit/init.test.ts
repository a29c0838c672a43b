import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { tempDir } from "../helpers/tmp.js";

/** `azlon init` in-process at a terminal (stdin and stderr are TTYs): these lines typed in answer. */
async function initAtTerminal(typed: string, env: Record<string, string> = {}) {
  const cwd = tempDir();
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  stdin.end(typed);
  let stdout = "";
  let stderr = "";
  const ctx: CliContext = {
    env: { HOME: cwd, XDG_CONFIG_HOME: join(cwd, "xdg"), ...env },
    cwd,
    stdout: { write: (s: string) => (stdout += s), isTTY: true },
    stderr: { write: (s: string) => (stderr += s), isTTY: true },
    stdin,
  };
  const code = await main(["init"], ctx);
  return { code, stdout, stderr, text: readFileSync(join(cwd, ".azlonrc.yaml"), "utf8") };
}

describe("azlon init at a terminal", () => {
  it("asks for the model and a check, each with its default; the answers are written", async () => {
    const r = await initAtTerminal("my-model:7b\nsh /azlon/checks/t.sh\n");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      "Model [gpt-4.1-mini]: A check command that must exit 0 in the built image (empty: none): ",
    );
    expect(r.text).toContain("\nmodel: my-model:7b\n");
    expect(r.text).toContain(`\nchecks:\n  - "sh /azlon/checks/t.sh"\n`);
  });

  it("an empty answer (or the end of input) takes the default", async () => {
    const r = await initAtTerminal("\n", { AZLON_MODEL: "from-env" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.text).toContain("\nmodel: from-env\n");
    expect(r.text).toContain("\nchecks: []\n");
  });

  it("asks nothing in CI, even at a terminal", async () => {
    const r = await initAtTerminal("typed-model\n", { CI: "true" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.text).toContain("\nmodel: gpt-4.1-mini\n");
  });

  it("a model that YAML would read as something else is quoted, and reads back the same", async () => {
    const r = await initAtTerminal("yes\n");
    expect(r.text).toContain('\nmodel: "yes"\n');
  });
});
