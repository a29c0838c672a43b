import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker, leftovers, removeImage } from "../helpers/docker.js";
import { FakeOpenAI, generation, lastUserMessage, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-e2e-0123456789";
const server = new FakeOpenAI();
const images: string[] = [];

beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.stop();
  for (const image of images) await removeImage(image);
});
afterEach(() => {
  server.requests.length = 0;
});

function args(out: string, extra: string[] = []): string[] {
  return [
    "run",
    "--prompt",
    "a script that greets",
    "--tests",
    "it prints hello, world",
    "--model",
    "gpt-test",
    "--base-url",
    server.url,
    "--out",
    out,
    "--json",
    ...extra,
  ];
}

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
  });
});
