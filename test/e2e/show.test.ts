import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { failedRun, HOSTILE, interruptedRun, passedRun } from "../helpers/run-fixtures.js";
import { tempDir } from "../helpers/tmp.js";

const show = (dir: string, extra: string[] = []) => runCli(["show", dir, ...extra], { cwd: tempDir() });

/** The summary's "label  value" lines; a label's further lines are joined to it. */
function fields(stdout: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let label = "";
  for (const line of stdout.split("\n").slice(1)) {
    const m = /^ {2}(\S.{0,10}?) {2,}(.*)$/.exec(line) ?? /^ {2}(\S+) (.*)$/.exec(line);
    if (m && !line.startsWith("             ")) {
      label = (m[1] as string).trim();
      out[label] = [m[2] as string];
    } else if (line.trim()) out[label]?.push(line.trim());
  }
  return out;
}

describe("azlon show (the built CLI, run folders as azlon leaves them)", () => {
  it("a passed run: its status, every round's outcome in a line, the last checks, tokens, cost, image; nothing to carry on", async () => {
    const dir = passedRun();
    const r = await show(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("✔ passed after 2 iterations · 1 m 01 s · 1,801 tokens (89 cached)");
    const f = fields(r.stdout);
    expect(f.status).toEqual(["passed"]);
    expect(f.reason).toEqual(["the checks passed and the output shows hello, world"]);
    expect(f.rounds).toEqual([
      "1  not passed  built in 1.2 s · ran: exit 3 in 40 ms, 12 B of output · checks: 0/1 passed",
      "2  passed      built in 900 ms · ran: exit 0 in 30 ms, 13 B of output · checks: 1/1 passed",
    ]);
    expect(f.checks).toEqual(["round 2: 1/1 passed", "✔ sh /azlon/checks/t.sh"]);
    expect(f.tokens).toEqual(["1,234 prompt (89 cached), 567 completion"]);
    expect(f.cost).toEqual(["$0.0123"]);
    expect(f.image).toEqual(["azlon-greet:abc123   (docker run --rm azlon-greet:abc123)"]);
    expect(f["run folder"]).toEqual([dir]);
    expect(f.continue).toBeUndefined();
  });

  it("a failed run: why it stopped, a round whose build failed, no checks ran, an unknown cost, and the command that carries it on", async () => {
    const dir = failedRun();
    const r = await show(dir);
    expect(r.code, r.stderr).toBe(0);
    const f = fields(r.stdout);
    expect(r.stdout.split("\n")[0]).toMatch(/^✖ did not pass after 2 iterations · /);
    expect(f.status).toEqual(["failed (max-iterations)"]);
    expect(f.rounds?.[0]).toBe(
      `1  build failed       2 files written · build failed after 500 ms: pull access denied ${HOSTILE}`,
    );
    expect(f.rounds?.[1]).toMatch(
      /^2 {2}pass not accepted {2}1 file written · built in 700 ms · ran: exit 1 /,
    );
    expect(f.checks).toEqual(["none ran", "- sh /azlon/checks/t.sh"]);
    expect(f.cost).toEqual(["unknown (no price for this model)"]);
    expect(f.continue).toEqual([`azlon resume ${dir} --max-iterations 4`]);
  });

  it("an interrupted run: a round cut short reads as not finished, the checks are the last that ran, and resume carries it on", async () => {
    const dir = interruptedRun();
    const r = await show(dir);
    expect(r.code, r.stderr).toBe(0);
    const f = fields(r.stdout);
    expect(r.stdout.split("\n")[0]).toMatch(/^✖ interrupted after 2 iterations · /);
    expect(f.status).toEqual(["interrupted"]);
    expect(f.rounds?.[1]).toBe(
      "2  not finished  1 file written · built in 800 ms · ran: exit 0 in 20 ms, 13 B of output",
    );
    expect(f.checks).toEqual(["round 1: 0/1 passed", "✖ sh /azlon/checks/t.sh (exit 1)"]);
    expect(f.continue).toEqual([`azlon resume ${dir}`]);
  });

  it("a run whose process died unawares reads as killed, not running, and can be carried on", async () => {
    const dir = interruptedRun({ killed: true });
    const r = await show(dir);
    expect(r.code, r.stderr).toBe(0);
    const f = fields(r.stdout);
    expect(r.stdout.split("\n")[0]).toMatch(/^✖ killed \(its process is gone\) after 2 iterations · /);
    expect(f.status).toEqual(["killed (run.json says running, but no process drives it)"]);
    expect(f.continue).toEqual([`azlon resume ${dir}`]);
  });

  it("--json prints the run's result object, as `azlon run --json` did", async () => {
    const dir = failedRun();
    const r = await show(dir, ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      schemaVersion: 1,
      status: "failed",
      stopReason: "max-iterations",
      runId: "20261125-greet-abc123",
      iterations: 2,
      runDir: dir,
      costUsd: null,
      rejectedEvidence: ["it prints it"],
      checks: { total: 1, passed: 0, results: [] },
    });
  });

  it("azlon runs <id> shows the same; runs lists each run's stop reason; an unknown id is a usage error", async () => {
    const out = tempDir();
    cpSync(failedRun(), join(out, "20261125-greet-abc123"), { recursive: true });
    const dir = join(out, "20261125-greet-abc123");
    const byId = await runCli(["runs", "20261125-greet-abc123", "--out", out], { cwd: tempDir() });
    expect(byId.code, byId.stderr).toBe(0);
    expect(byId.stdout).toBe((await show(dir)).stdout);
    const list = await runCli(["runs", "--out", out], { cwd: tempDir() });
    expect(list.stdout.split("\n")[0]).toMatch(/^RUN +STATUS +STOP REASON +ITER +COST /);
    expect(list.stdout.split("\n")[1]).toMatch(/^20261125-greet-abc123 +failed +max-iterations +2 +unknown /);
    const none = await runCli(["runs", "nope", "--out", out], { cwd: tempDir() });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      `azlon: no run nope in ${out}\n  fix: \`azlon runs\` lists them (pass --out for another folder)\n`,
    );
  });

  it("shows the model's words as text: no escape sequence from a reason, a cause or a check reaches the terminal", async () => {
    const dir = failedRun();
    const path = join(dir, "run.json");
    const state = JSON.parse(readFileSync(path, "utf8"));
    const evil = "\u001b]52;c;cHduZWQ=\u0007\u001b[2J";
    state.reason = `no ${evil}pass`;
    state.iterations[0].build.cause = `bad ${evil}line\nsecond`;
    state.input.prompt = `greet ${evil}`;
    writeFileSync(path, JSON.stringify(state));
    const r = await show(dir);
    expect(r.code, r.stderr).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(fields(r.stdout).rounds?.[0]).toMatch(/build failed after 500 ms: bad .*line second$/);
  });

  it("refuses a folder that is not a run, in one line with a fix", async () => {
    const r = await show(tempDir({ "notes.txt": "hi" }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not an azlon run folder");
    expect(r.stderr).not.toContain("    at ");
  });
});
