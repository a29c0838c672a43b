import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, spawnCli } from "../helpers/cli.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { FakeDocker } from "../helpers/fake-docker.js";
import { lastUserMessage } from "../helpers/fake-openai.js";
import { closeServer, listenLoopback } from "../helpers/http-server.js";
import { expectNoSecret, onlyRunDir, readJournal, readRun } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

// Faults of the model endpoint that end a run before anything is built: they need no Docker
// engine (a loopback stand-in answers the ping and the cleanup), so they run everywhere.
const KEY = "sk-test-model-faults-5e4d3c2b1a";
const { server } = loopbackModel();
const engine = new FakeDocker();
beforeAll(async () => {
  await engine.start();
});
afterAll(async () => {
  await engine.stop();
});

const STACK = /\n\s+at /;

interface RunOptions {
  extra?: string[];
  config?: Record<string, unknown>;
  baseUrl?: string;
}

/** `azlon run --json` against the loopback model and the stand-in engine. */
async function run({ extra = [], config, baseUrl }: RunOptions = {}) {
  const cwd = tempDir(config ? { ".azlonrc.json": JSON.stringify(config) } : {});
  const out = join(cwd, "runs");
  const args = runArgs(server, out, [...(baseUrl ? ["--base-url", baseUrl] : []), ...extra], {
    prompt: "greet",
    tests: "prints hello, world",
  });
  const started = Date.now();
  const result = await runCli(args, {
    cwd,
    env: { OPENAI_API_KEY: KEY, DOCKER_HOST: engine.host },
  });
  const elapsed = Date.now() - started;
  const json = result.stdout.trim() ? JSON.parse(result.stdout) : null;
  if (existsSync(out)) expectNoSecret(out, KEY);
  expect(result.stderr).not.toContain(KEY);
  expect(engine.unexpected).toEqual([]);
  return { ...result, json, out, elapsed, dir: existsSync(out) ? onlyRunDir(out) : null };
}

/** The `azlon: ...` line and its `fix:` line, which every expected failure prints. */
function failureLines(stderr: string): { cause: string; fix: string } {
  const lines = stderr.split("\n");
  const at = lines.findIndex((l) => l.startsWith("azlon: ") && !l.startsWith("azlon: to continue"));
  return { cause: lines[at] ?? "", fix: lines[at + 1] ?? "" };
}

const refusal = { refusal: "I can't help with that." };

describe("model faults that end a run before any build (no Docker needed)", () => {
  it("a model that keeps refusing ends clearly, the refusal kept in the journal", async () => {
    server.fallback = refusal;
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ status: "error", stopReason: "error" });
    expect(r.json.reason).toContain("refused");
    expect(r.stderr).not.toMatch(STACK);
    expect(server.chatRequests).toHaveLength(3); // the first try and two repair turns
    const calls = readJournal(r.dir as string).filter((e) => e.type === "model.call");
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.outcome === "refusal" && c.reply === "I can't help with that.")).toBe(true);
    expect(readRun(r.dir as string).status).toBe("error");
  });

  it("a reply cut by the length limit is asked again shorter, and ends clearly if it keeps happening", async () => {
    // Cut at azlon's own cap (maxReplyTokens, 16384 by default).
    server.fallback = {
      content: '{"plan": "a very long',
      finishReason: "length",
      usage: { prompt: 900, completion: 16384 },
    };
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.json.reason).toContain("length limit");
    expect(r.stderr).toContain("raise --max-reply-tokens");
    expect(lastUserMessage(server.chatRequests[1])).toContain("shorter");
    // Roles alternate, as strict chat templates (Mistral, Gemma) demand: a cut-off reply
    // stands in the conversation as an assistant turn before the repair.
    const roles = server.chatRequests[2]?.body?.messages.map((m) => m.role);
    expect(roles).toEqual(["system", "user", "assistant", "user", "assistant", "user"]);
  });

  it("llama.cpp's 500 for a reply it could not parse to the schema is not retried, and points at json mode", async () => {
    server.fallback = {
      status: 500,
      error: {
        message: "The model produced output that does not match the expected peg-native format",
        type: "server_error",
      },
    };
    const r = await run();
    expect(r.code).toBe(3);
    expect(server.chatRequests).toHaveLength(1);
    expect(r.stderr).toContain("could not read the model's reply as the structured output");
    expect(r.stderr).toContain("fix: set structuredOutput: json");
  });

  it("a reply the server cut short of azlon's cap (its context filled up) ends at once with the fix, not a repair turn", async () => {
    server.fallback = {
      content: '{"plan": "cut',
      finishReason: "length",
      usage: { prompt: 2116, completion: 444 },
    };
    const r = await run();
    expect(r.code).toBe(3);
    expect(server.chatRequests).toHaveLength(1);
    expect(r.stderr).toContain("cut the reply off at 444 tokens, short of maxReplyTokens (16,384)");
    expect(r.stderr).toMatch(/fix: .*llama-server -c 32768/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a rejected API key (401) is exit 3 with the cause, never the key", async () => {
    server.requiredKey = "sk-the-right-key-000000";
    try {
      const r = await run();
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("rejected the API key");
      expect(r.stderr).toContain("OPENAI_API_KEY");
    } finally {
      server.requiredKey = null;
    }
  });

  it("a 403 is exit 3 naming the access problem", async () => {
    server.fallback = {
      status: 403,
      error: { message: "You do not have access to this model.", type: "permission_error" },
    };
    const r = await run();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("refused access (403");
  });

  it("a server that is not a Chat Completions API (a web page at the base URL) is exit 3 with the fix", async () => {
    server.fallback = {
      raw: { contentType: "text/html", body: "<html><body>Welcome to nginx!</body></html>" },
    };
    const r = await run();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("did not answer like a Chat Completions API");
    expect(r.stderr).toContain("/v1");
    expect(r.stderr).not.toMatch(STACK);
    expect(r.json).toMatchObject({ status: "error", stopReason: "error" });
  });

  it("a 400 that is not about the response format neither switches to plain JSON nor suggests it", async () => {
    server.fallback = {
      status: 400,
      error: {
        message: "Unsupported parameter: 'temperature' is not supported with this model.",
        type: "invalid_request_error",
      },
    };
    const r = await run();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("temperature");
    expect(r.stderr).not.toContain("structuredOutput");
    expect(server.chatRequests).toHaveLength(1);
    expect(readJournal(r.dir as string).some((e) => e.type === "model.fallback")).toBe(false);
  });

  it("429 until the retries are spent is exit 3, each attempt journaled", async () => {
    server.fallback = {
      status: 429,
      headers: { "retry-after-ms": "10" },
      error: { message: "Rate limit reached", type: "rate_limit" },
    };
    const r = await run({ config: { modelRetries: 2 } });
    expect(r.code).toBe(3);
    expect(failureLines(r.stderr).cause).toContain("kept answering 429");
    expect(r.stderr).not.toMatch(STACK);
    const http = readJournal(r.dir as string).filter((e) => e.type === "model.http");
    expect(http.map((e) => [e.status, e.attempt])).toEqual([
      [429, 1],
      [429, 2],
      [429, 3],
    ]);
  });
});

describe("an endpoint that stalls does not hang azlon", () => {
  const hourLong429 = {
    status: 429,
    headers: { "retry-after": "3600" },
    error: { message: "Rate limit reached for requests", type: "requests" },
  };

  it("Retry-After: 3600 is capped by maxRetryWait, and the error says what was asked", async () => {
    server.fallback = hourLong429;
    const r = await run({ config: { modelRetries: 1, maxRetryWait: 0.3 } });
    expect(r.code).toBe(3);
    expect(r.elapsed).toBeLessThan(15_000);
    const { cause, fix } = failureLines(r.stderr);
    expect(cause).toContain("kept answering 429");
    expect(cause).toContain("3600 s");
    expect(fix).toContain("maxRetryWait");
    expect(server.chatRequests).toHaveLength(2);
    const http = readJournal(r.dir as string).filter((e) => e.type === "model.http");
    expect(http[0]).toMatchObject({ status: 429, retryInMs: 300, askedWaitMs: 3_600_000 });
    expect(http[1]).toMatchObject({ status: 429, retryInMs: null });
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`${signal} during a long Retry-After wait ends the run in seconds (exit ${code})`, async () => {
      server.fallback = hourLong429;
      const cwd = tempDir();
      const out = join(cwd, "runs");
      let sentAt = 0;
      const { done } = spawnCli(runArgs(server, out), {
        cwd,
        env: { OPENAI_API_KEY: KEY, DOCKER_HOST: engine.host },
        onStderr: (text, child) => {
          if (!sentAt && text.includes("retrying in")) {
            sentAt = Date.now();
            child.kill(signal);
          }
        },
      });
      const r = await done;
      expect(sentAt, r.stderr).toBeGreaterThan(0);
      expect(Date.now() - sentAt).toBeLessThan(5000);
      expect(r.code, r.stderr).toBe(code);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: "interrupted", stopReason: "interrupted" });
      expect(readRun(onlyRunDir(out)).status).toBe("interrupted");
    });
  }

  it("--max-time ends a long Retry-After wait on time, with stopReason max-time", async () => {
    server.fallback = hourLong429;
    const r = await run({ extra: ["--max-time", "2"] });
    expect(r.elapsed).toBeLessThan(10_000);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json).toMatchObject({ status: "failed", stopReason: "max-time" });
  });

  it("Ctrl-C while the endpoint is thinking prints no endpoint error", async () => {
    server.fallback = { content: "{}", delayMs: 30_000 };
    const cwd = tempDir();
    const out = join(cwd, "runs");
    let sentAt = 0;
    const { done } = spawnCli(runArgs(server, out), {
      cwd,
      env: { OPENAI_API_KEY: KEY, DOCKER_HOST: engine.host },
      onStderr: (text, child) => {
        if (!sentAt && text.includes("asking the model")) {
          sentAt = Date.now();
          setTimeout(() => child.kill("SIGINT"), 300);
        }
      },
    });
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(5000);
    expect(r.stderr).not.toMatch(/endpoint|aborted/i);
    expect(readJournal(onlyRunDir(out)).some((e) => e.type === "model.http")).toBe(false);
  });

  it("a request past modelTimeout is retried, then ends as an environment error (exit 3)", async () => {
    server.fallback = { content: "{}", delayMs: 3000 };
    const r = await run({ config: { modelTimeout: 0.5, modelRetries: 1 } });
    expect(r.code).toBe(3);
    expect(r.elapsed).toBeLessThan(10_000);
    expect(r.stderr).toContain("no answer from the endpoint");
    const http = readJournal(r.dir as string).filter((e) => e.type === "model.http");
    expect(http).toHaveLength(2); // the first try and one retry, both journaled
    expect(http.every((e) => e.status === null)).toBe(true);
  });

  it("headers sent, then the body stalls: modelTimeout covers the body too (exit 3)", async () => {
    server.fallback = { content: "{}", stallBodyMs: 20_000 };
    const r = await run({ config: { modelTimeout: 1, modelRetries: 1 } });
    expect(r.code, r.stderr).toBe(3);
    expect(r.elapsed).toBeLessThan(10_000);
    const { cause, fix } = failureLines(r.stderr);
    expect(cause).toContain("no answer from the endpoint");
    expect(cause).toContain("modelTimeout");
    expect(fix).toContain("modelTimeout");
    expect(r.stderr).not.toMatch(STACK);
    expect(server.chatRequests).toHaveLength(2);
  });

  for (const how of ["reset", "close"] as const) {
    it(`a reply body cut off mid-way (${how}) is retried, then exit 3 with one line and no stack`, async () => {
      server.fallback = { content: { plan: "p", dockerfile: "FROM x", files: [] }, cutBody: how };
      const r = await run({ config: { modelRetries: 1 } });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).not.toContain("internal error");
      expect(r.stderr).not.toContain("bug in azlon");
      const { cause, fix } = failureLines(r.stderr);
      expect(cause).toContain("broke off");
      expect(fix).toContain("fix:");
      expect(server.chatRequests).toHaveLength(2);
      const http = readJournal(r.dir as string).filter((e) => e.type === "model.http");
      expect(http.map((e) => e.status)).toEqual([200, 200]);
      expect(http.every((e) => typeof e.error === "string" && e.error.includes("broke off"))).toBe(true);
    });
  }
});

describe("what the endpoint answers is named for what it is", () => {
  it("an endpoint where nothing listens is 'unreachable: connection refused', exit 3, no stack", async () => {
    const port = await closedPort();
    const r = await run({ baseUrl: `http://127.0.0.1:${port}/v1`, config: { modelRetries: 1 } });
    expect(r.code, r.stderr).toBe(3);
    const { cause, fix } = failureLines(r.stderr);
    expect(cause).toContain(`cannot reach the endpoint at http://127.0.0.1:${port}/v1`);
    expect(cause).toContain("connection refused");
    expect(fix).toContain("running");
    // The progress lines say so too, not "the endpoint answered with an error".
    expect(r.stderr).not.toContain("answered with an error");
    expect(r.stderr).toContain("cannot reach the endpoint: connection refused");
    expect(r.stderr).not.toMatch(STACK);
  });

  it("a host name that does not resolve is named as a DNS failure", async () => {
    const r = await run({ baseUrl: "http://azlon-no-such-host.invalid/v1", config: { modelRetries: 0 } });
    expect(r.code, r.stderr).toBe(3);
    const { cause } = failureLines(r.stderr);
    expect(cause).toContain("cannot reach the endpoint");
    expect(cause).toContain("azlon-no-such-host.invalid");
    expect(cause).toMatch(/does not resolve|DNS/);
  });

  it("llama.cpp's context-size 400 gives the context fix, not the json_schema one", async () => {
    server.fallback = {
      status: 400,
      error: {
        message: "request (2192 tokens) exceeds the available context size (2048 tokens), try increasing it",
        type: "exceed_context_size_error",
      },
    };
    const r = await run();
    expect(r.code).toBe(3);
    const { cause, fix } = failureLines(r.stderr);
    expect(cause).toContain("context");
    expect(cause).toContain("2192 tokens");
    expect(cause).toMatch(/the prompt is [\d,]+ characters/);
    expect(fix).toContain("-c");
    expect(fix).toContain("num_ctx");
    expect(fix).toContain("--max-model-len");
    expect(r.stderr).not.toContain("structuredOutput");
    // Not taken for a json_schema problem: no switch to plain JSON, no second request.
    expect(server.chatRequests).toHaveLength(1);
    expect(readJournal(r.dir as string).some((e) => e.type === "model.fallback")).toBe(false);
  });

  it("a reply over maxReplyBytes is refused as a model error, not held and saved whole", async () => {
    const big = "x".repeat(300_000);
    server.fallback = { content: { plan: big, dockerfile: "FROM x", files: [] } };
    const r = await run({ config: { maxReplyBytes: 65536 } });
    expect(r.code, r.stderr).toBe(1);
    const { cause, fix } = failureLines(r.stderr);
    expect(cause).toContain("larger than");
    expect(fix).toContain("maxReplyBytes");
    expect(r.stderr).not.toMatch(STACK);
    expect(server.chatRequests).toHaveLength(1); // not retried: it would be as large again
    const journal = JSON.stringify(readJournal(r.dir as string));
    expect(journal).not.toContain(big.slice(0, 70_000));
  });
});

describe("the reply's token cap", () => {
  it("is sent by default in both fields servers read, and --max-reply-tokens sets it", async () => {
    server.fallback = refusal;
    await run({ extra: [] });
    const first = server.chatRequests[0]?.body;
    expect(first?.max_tokens).toBe(16384);
    expect(first?.max_completion_tokens).toBe(16384);

    server.requests.length = 0;
    const r = await run({ extra: ["--max-reply-tokens", "777"] });
    expect(r.code).toBe(1);
    for (const request of server.chatRequests) {
      expect(request.body?.max_tokens).toBe(777);
      expect(request.body?.max_completion_tokens).toBe(777);
    }
    expect(readRun(r.dir as string).options).toMatchObject({ maxReplyTokens: 777 });
  });
});

describe("the cost is priced by the model that served the reply", () => {
  const million = { prompt: 1_000_000, completion: 0 };

  it("a server answering with another OpenAI model is priced as that model, and journaled", async () => {
    // Asked for gpt-4o-mini ($0.15 per million input tokens), served gpt-4o ($2.50).
    server.fallback = { ...refusal, usage: million, servedModel: "gpt-4o-2024-08-06" };
    const r = await run({ extra: ["--model", "gpt-4o-mini"] });
    expect(r.code).toBe(1);
    expect(r.json.costUsd).toBeCloseTo(7.5, 6); // three calls of a million tokens at $2.50
    const calls = readJournal(r.dir as string).filter((e) => e.type === "model.call");
    expect(calls.map((c) => c.servedModel)).toEqual(Array(3).fill("gpt-4o-2024-08-06"));
    expect(r.stderr).toContain('"gpt-4o-2024-08-06"');
  });

  it("a served model without a price makes the cost unknown (null), not the requested model's", async () => {
    server.fallback = { ...refusal, usage: million, servedModel: "llama-3.1-8b-instruct" };
    const r = await run({ extra: ["--model", "gpt-4o-mini"] });
    expect(r.code).toBe(1);
    expect(r.json.costUsd).toBeNull();
    expect(readRun(r.dir as string).costUsd).toBeNull();
  });

  it("--max-cost is refused as soon as the served model has no price", async () => {
    server.fallback = { ...refusal, usage: million, servedModel: "llama-3.1-8b-instruct" };
    const r = await run({ extra: ["--model", "gpt-4o-mini", "--max-cost", "100"] });
    expect(r.code).toBe(2);
    const { cause, fix } = failureLines(r.stderr);
    expect(cause).toContain("--max-cost");
    expect(cause).toContain("llama-3.1-8b-instruct");
    expect(fix).toContain("prices");
    expect(server.chatRequests).toHaveLength(1);
  });
});

/** A loopback port where nothing listens. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  const port = await listenLoopback(probe);
  await closeServer(probe);
  return port;
}
