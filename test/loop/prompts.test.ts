import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import type { RunOptions } from "../../src/core/state.js";
import type { CheckView } from "../../src/core/types.js";
import { OpenAIModel } from "../../src/model/openai-model.js";
import { loadTemplates } from "../../src/prompts/templates.js";
import { FakeOpenAI, fail, generation, pass } from "../helpers/fake-openai.js";
import { freshState } from "../helpers/fakes.js";
import { harness } from "../helpers/loop-harness.js";

const CHECK = "python3 /azlon/checks/test_api.py";
const READY = "wget -q -O /dev/null http://127.0.0.1:8080/";

const servers: FakeOpenAI[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

/** The real model over real HTTP, as the engine makes it, against a loopback server. */
async function realModel(options: RunOptions): Promise<{ server: FakeOpenAI; model: OpenAIModel }> {
  const server = new FakeOpenAI();
  servers.push(server);
  await server.start();
  const client = new OpenAI({ apiKey: "sk-test", baseURL: server.url, maxRetries: 0 });
  const model = new OpenAIModel(client, {
    model: options.model,
    baseUrl: server.url,
    structuredOutput: "json_schema",
    repairAttempts: 1,
    maxRetries: 0,
    maxRetryWaitMs: 0,
    timeoutMs: 10_000,
    maxReplyTokens: null,
    maxReplyBytes: 2 ** 20,
    temperature: null,
    templates: loadTemplates(),
    promptContext: { limits: options.limits, baseImage: options.baseImage },
  });
  return { server, model };
}

/** The system messages of every request a run sent. */
function systemMessages(server: FakeOpenAI): string[] {
  return server.chatRequests.map((r) => r.body?.messages.find((m) => m.role === "system")?.content ?? "");
}

const view = (ready: string | null): CheckView => ({
  commands: [CHECK],
  files: [],
  names: [],
  ready,
  verdict: "both",
});

describe("the model is told the rule of the run's mode (real model over HTTP, scripted sandbox)", () => {
  it("a service run: every request's rules say the service keeps running, none that it must finish", async () => {
    const state = freshState({
      checks: { commands: [CHECK], dir: null, hide: false, timeoutMs: 30_000 },
      service: { ready: READY, readyTimeoutMs: 10_000 },
    });
    const { server, model } = await realModel(state.options);
    // A reason longer than the 200 characters history lines used to keep: the tried fix is at its end.
    const reason = `the sum is wrong: ${"the handler reads the query string, ".repeat(6)}so a+b is parsed as text; fixed by int() on both`;
    server.enqueue(
      generation("FROM busybox\n", { "app.sh": "echo serving" }),
      fail(reason, { files: { "app.sh": "echo serving; echo fixed" } }),
      pass(['{"sum": 5}', "serving on :8080"]),
    );
    const h = harness(
      [],
      [
        { output: "serving on :8080\n", checks: [{ exitCode: 1, output: '{"sum": "23"}\n' }] },
        { output: "serving on :8080\n", checks: [{ exitCode: 0, output: '{"sum": 5}\n' }] },
      ],
      { model, checks: view(READY) },
    );
    const { state: end } = await h.run(state);
    expect(end.status).toBe("passed");
    const systems = systemMessages(server);
    expect(systems).toHaveLength(3);
    for (const system of systems) {
      expect(system).toContain("The program is a service");
      expect(system).toContain("leave nothing the checks would see");
      expect(system).toContain("up to that stop");
      expect(system).not.toContain("No server that waits forever");
    }
    const second = server.chatRequests[2]?.body?.messages.at(-1)?.content ?? "";
    expect(second).toContain(
      "Exit code: none: it was still running when azlon stopped it after the checks, as a service should.",
    );
    // The earlier round's account is whole, what was fixed included, and says how the service ended.
    expect(second).toContain(
      `- round 1: wrote Dockerfile, app.sh; service ran until azlon stopped it; checks 0/1 passed; not passed: ${reason}\n`,
    );
  });

  it("a program run: every request's rules say the program finishes, none that it is a service", async () => {
    const state = freshState({ checks: { commands: [CHECK], dir: null, hide: false, timeoutMs: 30_000 } });
    const { server, model } = await realModel(state.options);
    server.enqueue(generation("FROM busybox\n", { "app.sh": "echo ok" }), pass(["CHECK sum: PASS"]));
    const h = harness([], [{ output: "CHECK sum: PASS\n", checks: [{ exitCode: 0 }] }], {
      model,
      checks: view(null),
    });
    const { state: end } = await h.run(state);
    expect(end.status).toBe("passed");
    const systems = systemMessages(server);
    expect(systems).toHaveLength(2);
    for (const system of systems) {
      expect(system).toContain("No server that waits forever");
      expect(system).toContain("prints the results and exits, non-zero when a check fails");
      expect(system).not.toContain("service");
    }
  });

  it("a long run's judge still sees every tried fix: each earlier round has its line, the last ten whole", async () => {
    const rounds = 12;
    const state = freshState({
      maxIterations: rounds,
      checks: { commands: [CHECK], dir: null, hide: false, timeoutMs: 30_000 },
    });
    const { server, model } = await realModel(state.options);
    const reason = (n: number) =>
      `round ${n} fails: ${"the parser drops a field, ".repeat(12)}tried fix number ${n}`;
    server.enqueue(
      generation("FROM busybox\n", { "app.sh": "echo 0" }),
      ...Array.from({ length: rounds - 1 }, (_, k) =>
        fail(reason(k + 1), { files: { "app.sh": `echo ${k + 1}` } }),
      ),
      pass(["CHECK sum: PASS"]),
    );
    const h = harness(
      [],
      Array.from({ length: rounds }, (_, k) =>
        k < rounds - 1
          ? { output: `try ${k}\n`, checks: [{ exitCode: 1 }] }
          : { output: "CHECK sum: PASS\n", checks: [{ exitCode: 0 }] },
      ),
      { model, checks: view(null) },
    );
    const { state: end } = await h.run(state);
    expect(end.status).toBe("passed");
    const last = server.chatRequests.at(-1)?.body?.messages.at(-1)?.content ?? "";
    for (let n = 1; n < rounds; n++) expect(last).toContain(`- round ${n}: `);
    // The last ten rounds' reasons are whole, their tried fix included; older ones keep their start.
    for (let n = 2; n < rounds; n++) expect(last).toContain(reason(n));
    expect(last).toContain("round 1 fails: the parser drops a field");
    expect(last).not.toContain("tried fix number 1\n");
  });
});
