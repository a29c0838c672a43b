import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { phaseParts } from "../../src/web/phases.js";
// @ts-expect-error: the page's plain ES module has no type declarations
import { describeEvent } from "../../src/web/view.js";
import { runCli } from "../helpers/cli.js";
import { describeDocker, leftovers } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { fail, generation, lastUserMessage, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { expectNoSecret } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-e2e-0123456789";
const { server, images } = loopbackModel();

const args = (out: string, extra: string[] = []) => runArgs(server, out, extra);

function onlyRun(out: string): string {
  const runs = readdirSync(out);
  expect(runs).toHaveLength(1);
  return join(out, runs[0] as string);
}

describeDocker("azlon run end to end (real engine, loopback model)", () => {
  it("(a) passes first time, leaving a complete run folder and a runnable image", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n`, {
        "README.md": "# greet\nPrints a greeting.\n",
        "greet.sh": 'echo "hello, world"\n',
      }),
      pass(["hello, world"]),
    );
    const result = await runCli(args(out), { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ status: "passed", stopReason: "passed", iterations: 1 });
    expect(json.usage.promptTokens).toBe(200);
    expect(json.usage.completionTokens).toBe(100);
    images.push(json.image);
    const dir = onlyRun(out);
    expect(json.runDir).toBe(dir);
    expect(readFileSync(join(dir, "workspace/greet.sh"), "utf8")).toContain("hello, world");
    expect(readFileSync(join(dir, "workspace/Dockerfile"), "utf8")).toContain("ENTRYPOINT");
    expect(readFileSync(join(dir, "iterations/01/output.log"), "utf8")).toBe("hello, world\n");
    expect(existsSync(join(dir, "iterations/01/build.log"))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "iterations/01/verdict.json"), "utf8")).accepted).toBe(true);
    const state = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
    expect(state.status).toBe("passed");
    const events = readFileSync(join(dir, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toContain("build.finished");
    expect(events.at(-1).type).toBe("run.finished");
    // Nothing left running; the final image is kept under its tag.
    const left = await leftovers(state.runId);
    expect(left.containers).toBe(0);
    expect(left.images).toEqual([`${json.image}:latest`]);
    // The request went through the real SDK with a strict json_schema response format.
    const first = server.chatRequests[0]?.body;
    expect(first?.response_format?.type).toBe("json_schema");
    expect(first?.response_format?.json_schema?.strict).toBe(true);
    expect(lastUserMessage(server.chatRequests[0])).toContain("it prints hello, world");
    expectNoSecret(dir, KEY);
    // The run folder gives the same result back later: `azlon show --json`.
    const shown = await runCli(["show", dir, "--json"], { cwd });
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(json);
  });

  it("(b) a wrong program is fixed by the verdict and passes on iteration 2; the judge saw the failure", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n`, {
        "greet.sh": 'echo "hello, wrld"\necho "oops" >&2\nexit 3\n',
      }),
      fail("prints hello, wrld", { files: { "greet.sh": 'echo "hello, world"\n' } }, ["hello, wrld"]),
      pass(["hello, world"]),
    );
    const result = await runCli(args(out), { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    images.push(json.image);
    expect(json).toMatchObject({ status: "passed", iterations: 2 });
    const judged = lastUserMessage(server.chatRequests[1]);
    expect(judged).toContain("hello, wrld");
    expect(judged).toContain("oops"); // stderr reaches the judge too
    expect(judged).toContain("Exit code: 3");
    const second = lastUserMessage(server.chatRequests[2]);
    expect(second).toContain("round 1:"); // the memory of earlier rounds
    const dir = onlyRun(out);
    expect(readFileSync(join(dir, "iterations/01/output.log"), "utf8")).toContain("hello, wrld");
    expect(readFileSync(join(dir, "iterations/02/output.log"), "utf8")).toBe("hello, world\n");
  });

  it("(c) never passes: stops at --max-iterations with exit 1 and status failed", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "nope"]\n`, {}),
      fail("still wrong", { dockerfile: `FROM ${BUSYBOX}\nENTRYPOINT ["echo", "nope again"]\n` }, ["nope"]),
      fail("still wrong", {}, ["nope again"]),
    );
    const result = await runCli(args(out, ["--max-iterations", "2"]), { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(result.code, result.stderr).toBe(1);
    const json = JSON.parse(result.stdout);
    images.push(json.image);
    expect(json).toMatchObject({ status: "failed", stopReason: "max-iterations", iterations: 2 });
    expect(json.reason).toContain("not passed after 2 iterations");
    // The judge's quotes proved no pass: they are not the result's evidence.
    expect(json.evidence).toEqual([]);
    expect(json.rejectedEvidence).toEqual(["nope again"]);
    expect(server.chatRequests).toHaveLength(3);
    const state = JSON.parse(readFileSync(join(json.runDir, "run.json"), "utf8"));
    expect(state.status).toBe("failed");
    expect((await leftovers(state.runId)).containers).toBe(0);
  });

  it("(d) a Dockerfile that fails to build: the build log reaches the model, the fixed one passes", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nRUN echo "compiling" && exit 7\nENTRYPOINT ["echo", "built"]\n`, {}),
      fail("the RUN step fails", { dockerfile: `FROM ${BUSYBOX}\nENTRYPOINT ["echo", "built"]\n` }),
      pass(["built"]),
    );
    const result = await runCli(args(out), { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    images.push(json.image);
    expect(json.iterations).toBe(2);
    const judged = lastUserMessage(server.chatRequests[1]);
    expect(judged).toContain("build FAILED");
    expect(judged).toContain("compiling");
    expect(judged).toMatch(/returned a non-zero code: 7/);
    const dir = onlyRun(out);
    expect(readFileSync(join(dir, "iterations/01/build.log"), "utf8")).toContain("non-zero code: 7");
    expect(existsSync(join(dir, "iterations/01/output.log"))).toBe(false);
  });
  it("(f) a Dockerfile the engine cannot parse: the terminal, the journal, run.json and the report say why", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    server.enqueue(generation(`FROM ${BUSYBOX}\nK=-\n`, {}), fail("the Dockerfile does not parse", {}));
    const result = await runCli(args(out, ["--max-iterations", "1"]), { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(result.code, result.stderr).toBe(1);
    // The builder's words on the round's own line, not only in build.log.
    expect(result.stderr).toMatch(
      /✖ iteration 1\/1 build failed after [^:]+: dockerfile parse error line 2: unknown instruction: K=-\n/,
    );
    expect(result.stderr).not.toContain("unexpected -");
    const dir = onlyRun(out);
    const cause = "unknown instruction: K=-";
    const finished = readFileSync(join(dir, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((e) => e.type === "build.finished");
    expect(finished).toMatchObject({ ok: false, cause: expect.stringContaining(cause) });
    const state = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
    expect(state.iterations[0].build.cause).toContain(cause);
    const report = await runCli(["report", dir], { cwd });
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toMatch(
      /build failed after [^:]+: dockerfile parse error line \d+: unknown instruction: K=-/,
    );
  });

  it("(g) a round that changed only the Dockerfile: the terminal, the page and the report count one file written", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "nope"]\n`, {}),
      fail("still wrong", { dockerfile: `FROM ${BUSYBOX}\nENTRYPOINT ["echo", "nope again"]\n` }),
      fail("still wrong", {}),
    );
    const result = await runCli(args(out, ["--max-iterations", "2"]), { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(result.code, result.stderr).toBe(1);
    images.push(JSON.parse(result.stdout).image);
    const dir = onlyRun(out);
    // The terminal.
    expect(result.stderr).toContain("✔ iteration 1/2 1 file written\n");
    expect(result.stderr).toContain("✔ iteration 2/2 1 file written\n");
    // The page: its rounds (run.json's summaries) and its progress log (the journal).
    const state = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
    for (const round of state.iterations) expect(phaseParts(round)).toContain("1 file written");
    const applied = readFileSync(join(dir, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === "changes.applied");
    expect(applied.map(describeEvent)).toEqual(["1 file written", "1 file written"]);
    // The report, over the round's Dockerfile diff.
    expect((await runCli(["report", dir], { cwd })).code).toBe(0);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html.match(/<span>1 file written<\/span>/g)).toHaveLength(2);
    expect(html).not.toMatch(/0 (files )?written/);
  });

  it("(e) a run of twelve rounds prints no MaxListenersExceededWarning (nothing piles up on the run's signal)", async () => {
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const rounds = 12;
    server.enqueue(generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "nope"]\n`, {}));
    // Every round a model call, a build and a run: each used to leave a listener behind.
    for (let i = 1; i <= rounds; i++) {
      server.enqueue(
        fail("still wrong", { dockerfile: `FROM ${BUSYBOX}\nENTRYPOINT ["echo", "nope ${i}"]\n` }),
      );
    }
    const result = await runCli(args(out, ["--max-iterations", String(rounds)]), {
      cwd,
      env: { OPENAI_API_KEY: KEY },
    });
    expect(result.code, result.stderr).toBe(1);
    const json = JSON.parse(result.stdout);
    images.push(json.image);
    expect(json.iterations).toBe(rounds);
    expect(server.chatRequests).toHaveLength(rounds + 1);
    expect(result.stderr).not.toContain("MaxListenersExceededWarning");
    expect(result.stderr).not.toMatch(/memory leak/i);
  });
});
