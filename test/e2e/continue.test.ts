import { join } from "node:path";
import { expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { fail, generation, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { onlyRunDir, readRun } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-continue-5a4b3c2d1e";
const { server, images } = loopbackModel();

const dockerfile = `FROM ${BUSYBOX}\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n`;

/** The summary's lines by their label: "reason", "run folder", "image", "continue". */
function summaryLines(stdout: string): { head: string; fields: Record<string, string> } {
  const lines = stdout.trimEnd().split("\n");
  const fields: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const m = /^ {2}(reason|cost|run folder|image|continue) +(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) fields[m[1]] = m[2];
  }
  return { head: lines[0] ?? "", fields };
}

describeDocker("the human summary and the command that continues a capped run", () => {
  it("prints status, reason, run folder, image and a continue command that does continue", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const env = { OPENAI_API_KEY: KEY };
    server.enqueue(
      generation(dockerfile, { "greet.sh": 'echo "hello, wrld"\n' }),
      fail("it prints hello, wrld", { files: { "greet.sh": 'echo "hello, world"\n' } }, ["hello, wrld"]),
    );
    const args = runArgs(server, out, ["--max-iterations", "1"]).filter((a) => a !== "--json");
    const first = await runCli(args, { cwd, env });
    expect(first.code, first.stderr).toBe(1);
    const dir = onlyRunDir(out);
    const { runId } = readRun(dir);
    images.push(`azlon/${runId}`);

    // Human mode: the summary is on stdout, line by line.
    const summary = summaryLines(first.stdout);
    expect(summary.head).toMatch(/^✖ did not pass after 1 iteration · .* · 300 tokens$/);
    expect(summary.fields).toEqual({
      reason: "not passed after 1 iteration: it prints hello, wrld",
      // A model with no price: its cost is unknown, in the words the page and the report use.
      cost: "unknown (no price for this model)",
      "run folder": dir,
      image: `azlon/${runId}   (docker run --rm azlon/${runId})`,
      continue: `azlon resume ${dir} --max-iterations 2`,
    });

    // A plain resume would stop at once: it is refused, naming the flag to raise.
    const plain = await runCli(["resume", dir], { cwd, env });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toBe(
      `azlon: the run in ${dir} stopped at its cap of 1 iteration; resumed as it is, it would stop again at once\n` +
        `  fix: raise --max-iterations: azlon resume ${dir} --max-iterations 2\n`,
    );
    expect(server.chatRequests).toHaveLength(2); // nothing was asked of the model

    // The printed command, as printed, goes on and passes.
    // The endpoint reports cached prompt tokens: the summary shows them.
    server.enqueue({ ...pass(["hello, world"]), usage: { prompt: 400, completion: 50, cached: 256 } });
    const printed = (summary.fields.continue ?? "").split(" ");
    expect(printed.slice(0, 2)).toEqual(["azlon", "resume"]);
    const second = await runCli(printed.slice(1), { cwd, env });
    expect(second.code, second.stderr).toBe(0);
    const after = summaryLines(second.stdout);
    expect(after.head).toMatch(/^✔ passed after 2 iterations · .* · 750 tokens \(256 cached\)$/);
    expect(after.fields.reason).toBe("all conditions hold");
    expect(after.fields.continue).toBeUndefined();
    expect(readRun(dir)).toMatchObject({ status: "passed", legs: [{}, {}] });
  });

  it("with --json, a run stopped by --max-tokens names the flag to raise on stderr", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    server.enqueue(
      {
        ...generation(dockerfile, { "greet.sh": 'echo "hello, wrld"\n' }),
        usage: { prompt: 600, completion: 300 },
      },
      { ...fail("wrong"), usage: { prompt: 600, completion: 300 } },
    );
    const r = await runCli(runArgs(server, out, ["--max-tokens", "1500"]), {
      cwd,
      env: { OPENAI_API_KEY: KEY },
    });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    images.push(json.image);
    expect(json).toMatchObject({ stopReason: "max-tokens" });
    expect(Number.isInteger(json.durationMs)).toBe(true);
    expect(r.stderr).toContain(`azlon: to continue: azlon resume ${json.runDir} --max-tokens 3000\n`);
    const plain = await runCli(["resume", json.runDir], { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("stopped at its token budget (1800 of 1500 tokens used)");
    expect(plain.stderr).toContain("raise --max-tokens");
  });
});
