import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { freshState, newFolder } from "../helpers/fakes.js";
import { tempDir } from "../helpers/tmp.js";

const ROOT = resolve(import.meta.dirname, "../..");
/** The file size a process may write here (RLIMIT_FSIZE, in KiB): a save of 1 MiB is cut short. */
const LIMIT_KIB = 256;

/**
 * Saves the run's record again, 1 MiB of it, in a process that may write files of LIMIT_KIB
 * at most: the write stops part-way (EFBIG) as one stopped by a crash or a full disk would.
 * Prints the error's code.
 */
const SAVE_BIG = `
import { RunFolder } from ${JSON.stringify(join(ROOT, "src/workspace/run-folder.ts"))};
import { Redactor } from ${JSON.stringify(join(ROOT, "src/util/secrets.ts"))};
const folder = new RunFolder(process.argv[2], Redactor.none());
const state = folder.readState();
state.input.prompt = "x".repeat(1 << 20);
try {
  folder.saveState(state);
  console.log("saved");
} catch (error) {
  console.log(error.code);
}
`;

describe("run.json is replaced whole or not at all", () => {
  it("a save cut short mid-write leaves the last good run.json, and no temporary file", () => {
    const dir = tempDir();
    newFolder(dir).saveState(freshState());
    const before = readFileSync(join(dir, "run.json"), "utf8");
    const script = join(tempDir(), "save-big.ts");
    writeFileSync(script, SAVE_BIG);

    // Node ignores SIGXFSZ: a write past the limit writes what fits, then fails with EFBIG.
    const child = spawnSync(
      "bash",
      ["-c", `ulimit -f ${LIMIT_KIB} && exec "$0" --import tsx "$1" "$2"`, process.execPath, script, dir],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout.trim()).toBe("EFBIG");

    expect(readFileSync(join(dir, "run.json"), "utf8")).toBe(before);
    expect(JSON.parse(before).input.prompt).toBe("greet");
    expect(readdirSync(dir).sort()).toEqual(["iterations", "run.json", "workspace"]);
  });
});
