import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";
import { cutEcho } from "../../src/util/echo.js";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { fail, generation, lastUserMessage, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { expectNoSecret, onlyRunDir, readJournal, readRun } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-faults-9f8e7d6c5b4a";
const { server, images } = loopbackModel();

const hello = () =>
  generation(`FROM ${BUSYBOX}\nCOPY hello.sh /hello.sh\nENTRYPOINT ["sh", "/hello.sh"]\n`, {
    "hello.sh": 'echo "hello, world"\n',
  });

/** Runs the CLI against the loopback server; checks the key never reaches the run folder. */
async function run(extra: string[] = [], env: Record<string, string> = {}, cwd = tempDir()) {
  const out = join(cwd, "runs");
  const result = await runCli(
    runArgs(server, out, extra, { prompt: "greet", tests: "prints hello, world" }),
    { cwd, env: { OPENAI_API_KEY: KEY, ...env } },
  );
  const json = result.stdout.trim() ? JSON.parse(result.stdout) : null;
  if (json?.image) images.push(json.image);
  if (existsSync(out)) expectNoSecret(out, KEY);
  expect(result.stderr).not.toContain(KEY);
  return { ...result, json, out, dir: existsSync(out) ? onlyRunDir(out) : null };
}

/**
 * Files named with `tag` outside the workspace, where a path with `..` that got out of it
 * would land: anywhere under the test's own folder (the run folder, the runs folder, the
 * folder itself) and in the tmp dir above it.
 */
function escapedFiles(cwd: string, tag: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.name.includes(tag)) found.push(full);
      if (entry.isDirectory() && entry.name !== "workspace") walk(full);
    }
  };
  walk(cwd);
  for (const name of readdirSync(dirname(cwd))) if (name.includes(tag)) found.push(join(dirname(cwd), name));
  return found;
}

// The model faults that end a run before any build live in model-faults.test.ts (no engine needed).
describeDocker("model faults, budgets and a proven pass (real engine, loopback model)", () => {
  it("500 then 429 then success: retried with backoff, each attempt journaled, and the run passes", async () => {
    const fast = { "retry-after-ms": "10" };
    server.enqueue(
      { status: 500, headers: fast },
      { status: 429, headers: fast, error: { message: "Rate limit reached", type: "rate_limit" } },
      hello(),
      pass(["hello, world"]),
    );
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    const http = readJournal(r.dir as string).filter((e) => e.type === "model.http");
    expect(http.map((e) => e.status)).toEqual([500, 429, 200, 200]);
    expect(http.slice(0, 3).map((e) => e.attempt)).toEqual([1, 2, 3]);
  });

  it("a reply that is not JSON gets a repair turn naming the problem, then passes", async () => {
    server.enqueue({ content: "Sure! Here is your project: it greets." }, hello(), pass(["hello, world"]));
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    const repair = lastUserMessage(server.chatRequests[1]);
    expect(repair).toContain("not valid JSON");
    const calls = readJournal(r.dir as string).filter((e) => e.type === "model.call");
    expect(calls[0]).toMatchObject({ outcome: "invalid", reply: "Sure! Here is your project: it greets." });
  });

  it("a reply that fails the schema is repaired with the field named", async () => {
    server.enqueue({ content: { plan: "p", dockerfile: 42, files: [] } }, hello(), pass(["hello, world"]));
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    expect(lastUserMessage(server.chatRequests[1])).toContain("dockerfile");
  });

  it("a 400 to json_schema falls back to plain JSON with the schema in the prompt, and passes", async () => {
    server.enqueue(
      {
        status: 400,
        error: { message: "response_format json_schema is not supported", type: "invalid_request_error" },
      },
      hello(),
      // A plain-JSON model likes code fences; they are tolerated.
      { content: `\`\`\`json\n${JSON.stringify(pass(["hello, world"]).content)}\n\`\`\`` },
    );
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    const [first, second, third] = server.chatRequests;
    expect(first?.body?.response_format?.type).toBe("json_schema");
    expect(second?.body?.response_format).toBeUndefined();
    expect(third?.body?.response_format).toBeUndefined();
    expect(second?.body?.messages[0]?.content).toContain("JSON Schema");
    expect(readJournal(r.dir as string).some((e) => e.type === "model.fallback")).toBe(true);
    expect(readRun(r.dir as string)).toMatchObject({ structuredOutputMode: "json" });
  });

  it("every unsafe path of the table is refused, told to the judge, journaled, and the run completes", async () => {
    // Unique names: a path that got out would be found wherever it landed, and nothing else.
    const tag = `escape-${process.pid}-${Date.now()}`;
    // The workspace is <tmp>/<cwd>/runs/<run>/workspace: each of these would land in a folder
    // above it (the run folder, the runs folder, the temp folder the test made, the tmp dir).
    const escaping = [
      `../${tag}-1.sh`,
      `a/../../${tag}-2.sh`,
      `./../${tag}-3.sh`,
      `src/../../../${tag}-4.sh`,
      `..\\..\\${tag}-5.sh`,
      `../../../${tag}-6.sh`,
      `../../../../${tag}-7.sh`,
    ];
    const bad = [
      ...escaping,
      "/etc/passwd",
      "/app/main.py",
      "C:\\Windows\\evil.bat",
      "\\\\server\\share\\x",
      "nul\u0000byte",
      ".git/config",
      "sub/.GIT/hooks/post-checkout",
      `${"d/".repeat(130)}long.txt`,
      "~/.ssh/authorized_keys",
    ];
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nCOPY hello.sh /hello.sh\nENTRYPOINT ["sh", "/hello.sh"]\n`, {
        "hello.sh": 'echo "hello, world"\n',
        ...Object.fromEntries(bad.map((p) => [p, "x"])),
      }),
      pass(["hello, world"]),
    );
    const cwd = tempDir();
    expect(dirname(cwd)).toBe(tmpdir());
    const r = await run([], {}, cwd).catch((error: Error) => error);
    const escaped = escapedFiles(cwd, tag);
    for (const path of escaped) rmSync(path, { force: true });
    expect(escaped, "a path escaped the workspace").toEqual([]);
    if (r instanceof Error) throw r;
    expect(r.code, r.stderr).toBe(0);
    const applied = readJournal(r.dir as string).find((e) => e.type === "changes.applied");
    // Echoed paths are cut at 200 characters, saying how much was cut.
    expect(applied?.refused.map((x: { path: string }) => x.path)).toEqual(bad.map((p) => cutEcho(p)));
    expect(applied?.refused.find((x: { path: string }) => x.path.startsWith("d/")).path).toContain(
      "… (68 more characters)",
    );
    expect(applied?.written).toEqual(["hello.sh"]);
    const judged = lastUserMessage(server.chatRequests[1]);
    for (const reason of [
      "escapes the workspace",
      "is absolute",
      "drive letter",
      "UNC",
      "NUL",
      ".git",
      "too long",
      "home",
    ]) {
      expect(judged).toContain(reason);
    }
  });

  it("--max-tokens stops the run with stopReason max-tokens and exit 1", async () => {
    server.enqueue(
      { ...hello(), usage: { prompt: 600, completion: 300 } },
      { ...fail("wrong", { files: { "hello.sh": "echo hi\n" } }), usage: { prompt: 600, completion: 300 } },
    );
    server.fallback = fail("never called");
    const r = await run(["--max-tokens", "1500"]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ status: "failed", stopReason: "max-tokens", iterations: 1 });
    expect(r.json.usage).toMatchObject({ promptTokens: 1200, completionTokens: 600 });
    expect(server.chatRequests).toHaveLength(2);
  });

  it("--max-cost stops the run by the price table, and the cost is reported", async () => {
    server.enqueue(
      { ...hello(), usage: { prompt: 1_000_000, completion: 0 } },
      { ...fail("wrong"), usage: { prompt: 1_000_000, completion: 0 } },
    );
    // gpt-4o-mini lists input at $0.15 per million tokens.
    const r = await run(["--model", "gpt-4o-mini", "--max-cost", "0.25"]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ stopReason: "max-cost" });
    expect(r.json.costUsd).toBeCloseTo(0.3, 6);
  });

  it("a judge that claims a pass with a quote the output does not hold does not make the run pass", async () => {
    server.enqueue(
      hello(),
      pass(["ALL 12 TESTS PASSED"]),
      pass(["ALL 12 TESTS PASSED"]),
      pass(["ALL 12 TESTS PASSED"]),
    );
    const r = await run(["--max-iterations", "1"]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ status: "failed", stopReason: "max-iterations" });
    const journal = readJournal(r.dir as string);
    const rejected = journal.filter((e) => e.type === "evidence.rejected");
    expect(rejected).toHaveLength(3);
    expect(rejected[0]).toMatchObject({ missing: ["ALL 12 TESTS PASSED"] });
    expect(lastUserMessage(server.chatRequests[2])).toContain('"ALL 12 TESTS PASSED"');
    const verdict = JSON.parse(readFileSync(join(r.dir as string, "iterations/01/verdict.json"), "utf8"));
    expect(verdict).toMatchObject({ passed: true, accepted: false });
  });

  it("secrets in the environment are masked wherever the program prints them; the project stays intact", async () => {
    const secret = "hunter2-database-password";
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nCOPY run.sh /run.sh\nENTRYPOINT ["sh", "/run.sh"]\n`, {
        // The model put the value in the code (the user gave it in the prompt): the project
        // needs it as written, and a broker URL with a password is ordinary text.
        "run.sh": `echo "password is ${secret}"\necho "broker amqp://guest:guest@localhost:5672"\n`,
      }),
      pass(["password is [secret]", "broker amqp://guest:guest@localhost:5672"], `it printed ${secret}`),
    );
    const r = await run([], { DB_PASSWORD: secret });
    expect(r.code, r.stderr).toBe(0);
    const dir = r.dir as string;
    expect(readFileSync(join(dir, "iterations/01/output.log"), "utf8")).toBe(
      "password is [secret]\nbroker amqp://guest:guest@localhost:5672\n",
    );
    expect(lastUserMessage(server.chatRequests[1])).toContain("password is [secret]");
    expect(readFileSync(join(dir, "workspace/run.sh"), "utf8")).toContain(secret);
    // What is shown (progress on stderr, the JSON on stdout) is masked too.
    expect(r.stderr).toContain("passed: it printed [secret]");
    expect(r.stderr + r.stdout).not.toContain(secret);
    // The record holds it nowhere: not the logs, the journal, run.json or the stored replies.
    for (const part of ["run.json", "events.jsonl", "iterations"]) expectNoSecret(join(dir, part), secret);
  });

  it("--max-time stops a run whose program hangs, cleanly, with stopReason max-time", async () => {
    server.enqueue(generation(`FROM ${BUSYBOX}\nENTRYPOINT ["sleep", "60"]\n`, {}));
    const started = Date.now();
    const r = await run(["--max-time", "4"]);
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.json).toMatchObject({ status: "failed", stopReason: "max-time" });
    expect(readRun(r.dir as string).status).toBe("failed");
  });

  it("--structured-output json starts in plain-JSON mode: no response_format, the schema in the prompt", async () => {
    server.enqueue(hello(), pass(["hello, world"]));
    const r = await run(["--structured-output", "json"]);
    expect(r.code, r.stderr).toBe(0);
    for (const request of server.chatRequests) {
      expect(request.body?.response_format).toBeUndefined();
      expect(request.body?.messages[0]?.content).toContain("JSON Schema");
    }
    expect(readRun(r.dir as string)).toMatchObject({ structuredOutputMode: "json" });
  });
});
