import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { fail, generation, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { expectNoSecret } from "../helpers/run-folder.js";
import { readSse, type Served, startServe } from "../helpers/serve.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-serve-0123456789";
const { server, images } = loopbackModel();
const started: Served[] = [];

afterEach(async () => {
  for (const s of started.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
    await s.done;
  }
});

const env = () => ({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url, AZLON_MODEL: "gpt-test" });

async function serve(out: string, extra: string[] = [], token?: string): Promise<Served> {
  const s = await startServe(["--out", out, ...extra], { cwd: join(out, ".."), env: env(), token });
  started.push(s);
  return s;
}

const GREET = generation(`FROM ${BUSYBOX}\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n`, {
  "greet.sh": 'echo "hello, world"\necho "<script>alert(1)</script>"\n',
});
const TASK = { prompt: "a script that greets", tests: "it prints hello, world" };

// biome-ignore lint/suspicious/noExplicitAny: tests read the API's JSON loosely
async function json(response: Response | Promise<Response>): Promise<any> {
  return (await response).json();
}

/** The status line's code for a POST that declares a 2 MiB body (refused before it is sent). */
function statusOfOversized(url: string, token: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST /api/runs HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\n` +
          "Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n{",
      );
    });
    let seen = "";
    socket.on("data", (d: Buffer) => {
      seen += d.toString();
      const code = /^HTTP\/1\.1 (\d+)/.exec(seen)?.[1];
      if (code) {
        socket.destroy();
        resolve(Number(code));
      }
    });
    socket.on("error", reject);
  });
}

/** The status code of a GET sent with its path exactly as given (fetch would normalise `..`). */
function statusOfRawGet(url: string, path: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
    });
    let seen = "";
    socket.on("data", (d: Buffer) => {
      seen += d.toString();
      const code = /^HTTP\/1\.1 (\d+)/.exec(seen)?.[1];
      if (code) {
        socket.destroy();
        resolve(Number(code));
      }
    });
    socket.on("error", reject);
  });
}

/** Polls GET /api/runs/{id} until `ok` holds of it. */
async function waitFor(
  s: Served,
  id: string,
  ok: (run: { status: string; phase: string | null }) => boolean,
) {
  for (let i = 0; i < 600; i++) {
    const run = await json(s.api(`/api/runs/${id}`));
    if (ok(run)) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} never got there`);
}

it("refuses to serve beyond loopback without a token, saying how to fix it", async () => {
  const cwd = tempDir();
  const result = await runCli(["serve", "--host", "0.0.0.0", "--port", "0", "--out", join(cwd, "runs")], {
    cwd,
    env: env(),
  });
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("azlon: azlon serve on 0.0.0.0 needs a token");
  expect(result.stderr).toContain("fix: pass --token");
});

describeDocker("azlon serve (real engine, loopback model)", () => {
  it("runs a task over the API: SSE that resumes without gaps or repeats, files as text, the round's changes, new prompts used", async () => {
    const out = join(tempDir(), "runs");
    const s = await serve(out);
    // A template with an unknown placeholder is refused, naming it; a good one is kept.
    const bad = await s.api("/api/prompts", {
      method: "PUT",
      json: { templates: { generateSystem: "write it {{nope}}" } },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { field: "templates.generateSystem", message: expect.stringContaining("{{nope}}") },
    });
    const good = await s.api("/api/prompts", {
      method: "PUT",
      json: { templates: { generateSystem: "MARKER-SYSTEM: build it. {{limits}}" } },
    });
    expect(good.status).toBe(200);
    expect(existsSync(join(out, ".azlon-serve/prompts/generate.system.md"))).toBe(true);

    server.enqueue({ ...GREET, delayMs: 1500 }, pass(["hello, world"]));
    const created = await s.api("/api/runs", { method: "POST", json: TASK });
    expect(created.status).toBe(202);
    const { id, url } = await json(created);
    expect(url).toBe(`/api/runs/${id}`);

    // A stream dropped after three events, picked up with Last-Event-ID.
    const first = await readSse(`${s.url}/api/runs/${id}/events`, {}, 3);
    expect(first.map((m) => m.id)).toEqual(["1", "2", "3"]);
    const rest = await readSse(`${s.url}/api/runs/${id}/events`, { "Last-Event-ID": "3" });
    const end = rest.at(-1);
    expect(end?.event).toBe("end");
    expect(JSON.parse(end?.data ?? "{}")).toEqual({ status: "passed" });
    const ids = [...first, ...rest.slice(0, -1)].map((m) => Number(m.id));
    const journal = readFileSync(join(out, id, "events.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(ids).toEqual(journal.map((_, i) => i + 1));
    expect(rest.at(-2)?.event).toBe("run.finished");
    // After the end, a stream picked up at the last id (the query form) sends nothing again.
    const again = await readSse(`${s.url}/api/runs/${id}/events?lastEventId=${journal.length}`);
    expect(again.map((m) => m.event)).toEqual(["end"]);
    expect(JSON.parse(rest.at(-2)?.data ?? "{}")).toEqual(JSON.parse(journal.at(-1) ?? "{}"));

    const run = await json(s.api(`/api/runs/${id}`));
    expect(run).toMatchObject({
      id,
      status: "passed",
      iterations: 1,
      tests: TASK.tests,
      result: { status: "passed" },
    });
    images.push(run.image);
    // The new system template reached the model, and the run keeps its own copy.
    expect(server.chatRequests[0]?.body?.messages[0]?.content).toContain("MARKER-SYSTEM");
    expect(readFileSync(join(out, id, "prompts/generate.system.md"), "utf8")).toContain("MARKER-SYSTEM");

    expect(await json(s.api(`/api/runs/${id}/files`))).toEqual({
      files: [
        { path: "Dockerfile", bytes: expect.any(Number) },
        { path: "greet.sh", bytes: expect.any(Number) },
      ],
    });
    const file = await s.api(`/api/runs/${id}/files/greet.sh`);
    expect(file.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(file.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await file.text()).toContain("<script>");
    for (const path of [
      "..%2Frun.json",
      "%2e%2e/%2e%2e/run.json",
      "..%2F..%2F..%2Fetc%2Fpasswd",
      "%2Fetc%2Fpasswd",
    ]) {
      expect((await s.api(`/api/runs/${id}/files/${path}`)).status, path).toBe(404);
    }
    const round = await json(s.api(`/api/runs/${id}/iterations/1`));
    expect(round.changes).toContainEqual({
      path: "greet.sh",
      before: null,
      after: 'echo "hello, world"\necho "<script>alert(1)</script>"\n',
    });
    expect(round.outputTail).toContain("hello, world");
    expect(round.verdict).toMatchObject({ passed: true, accepted: true });
    expect(await json(s.api("/api/runs?status=passed"))).toMatchObject({
      total: 1,
      runs: [{ id, status: "passed" }],
    });
    expect(await json(s.api("/api/runs?status=failed"))).toEqual({ runs: [], total: 0 });
    expectNoSecret(out, KEY);
  });

  it("a run that fails, then resumed with a higher limit, passes", async () => {
    const out = join(tempDir(), "runs");
    const s = await serve(out);
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n`, {
        "greet.sh": 'echo "hello, wrld"\n',
        "notes.txt": `the key is ${KEY}\n`,
      }),
      fail("prints hello, wrld", { files: { "greet.sh": 'echo "hello, world"\n' } }, ["hello, wrld"]),
    );
    const { id } = await json(
      s.api("/api/runs", { method: "POST", json: { ...TASK, options: { maxIterations: 1 } } }),
    );
    const failed = await waitFor(s, id, (r) => r.status === "failed");
    expect(failed).toMatchObject({ stopReason: "max-iterations", result: { status: "failed" } });
    expect((await s.api(`/api/runs/${id}/cancel`, { method: "POST" })).status).toBe(409);

    // Resumed as it is, it would stop again at once: refused, naming the option to raise.
    const same = await s.api(`/api/runs/${id}/resume`, { method: "POST" });
    expect(same.status).toBe(409);
    expect((await json(same)).error.message).toContain("raise options.maxIterations");
    // Nor may a resume move the server's API key to another endpoint.
    const elsewhere = await s.api(`/api/runs/${id}/resume`, {
      method: "POST",
      json: { options: { maxIterations: 2, baseUrl: "http://127.0.0.1:9/v1" } },
    });
    expect(elsewhere.status).toBe(400);
    server.enqueue(pass(["hello, world"]));
    // What `azlon resume` may raise, a request may too.
    const resumed = await s.api(`/api/runs/${id}/resume`, {
      method: "POST",
      json: { options: { maxIterations: 2, maxReplyTokens: 4096, modelTimeout: 120 } },
    });
    expect(resumed.status).toBe(202);
    const passed = await waitFor(s, id, (r) => r.status === "passed");
    images.push(passed.image);
    expect(passed.iterations).toBe(2);
    // Round 2 applied the judge's fix: the page can show it as a diff.
    const round = await json(s.api(`/api/runs/${id}/iterations/2`));
    expect(round.changes).toEqual([
      { path: "greet.sh", before: 'echo "hello, wrld"\n', after: 'echo "hello, world"\n' },
    ]);
    expect((await s.api(`/api/runs/${id}/resume`, { method: "POST" })).status).toBe(409);
    // A file that holds the API key (the workspace keeps what the model wrote) is served masked.
    const notes = await (await s.api(`/api/runs/${id}/files/notes.txt`)).text();
    expect(notes).toBe("the key is [secret]\n");
  });

  it("queues beyond --concurrency; cancels a queued and a running run", async () => {
    const out = join(tempDir(), "runs");
    const s = await serve(out, ["--concurrency", "1"]);
    server.enqueue({ ...GREET, delayMs: 20_000 });
    const a = await json(s.api("/api/runs", { method: "POST", json: TASK }));
    const b = await json(s.api("/api/runs", { method: "POST", json: TASK }));
    expect(a.status).toBe("running");
    expect(b.status).toBe("queued");
    expect((await json(s.api(`/api/runs/${b.id}`))).status).toBe("queued");
    // Newest first, paged, filtered by status.
    const page = await json(s.api("/api/runs?limit=1"));
    expect(page.total).toBe(2);
    expect(page.runs.map((r: { id: string }) => r.id)).toEqual([b.id]);
    expect((await json(s.api("/api/runs?limit=1&offset=1"))).runs[0].id).toBe(a.id);
    expect((await json(s.api("/api/runs?status=queued"))).runs.map((r: { id: string }) => r.id)).toEqual([
      b.id,
    ]);
    expect((await s.api("/api/runs?limit=500")).status).toBe(400);
    expect(await json(s.api(`/api/runs/${b.id}/cancel`, { method: "POST" }))).toEqual({
      id: b.id,
      status: "interrupted",
    });
    await waitFor(s, a.id, (r) => r.phase === "generate" && server.chatRequests.length > 0);
    expect((await s.api(`/api/runs/${a.id}/cancel`, { method: "POST" })).status).toBe(202);
    const stopped = await waitFor(s, a.id, (r) => r.status === "interrupted");
    expect(stopped.stopReason).toBe("interrupted");
    // The queue moved on: nothing left to run, nothing started.
    expect(server.chatRequests).toHaveLength(1);
  });

  it("the original's routes: run_workflow waits for the run; prompts read and replaced", async () => {
    const out = join(tempDir(), "runs");
    const s = await serve(out);
    const prompts = await json(s.api("/prompts"));
    expect(Object.keys(prompts).sort()).toEqual(["generate_code_prompt", "validate_output_prompt"]);
    expect(
      await json(
        s.api("/prompts", { method: "POST", json: { generate_code_prompt: "ORIGINAL {{limits}}" } }),
      ),
    ).toEqual({ status: "updated" });
    expect((await json(s.api("/prompts"))).generate_code_prompt).toBe("ORIGINAL {{limits}}");
    const bad = await s.api("/prompts", { method: "POST", json: { validate_output_prompt: "{{x}}" } });
    expect(await bad.json()).toMatchObject({ error: { field: "validate_output_prompt" } });

    server.enqueue(GREET, pass(["hello, world"]));
    const answer = await json(
      s.api("/run_workflow", {
        method: "POST",
        json: { user_prompt: TASK.prompt, test_conditions: TASK.tests },
      }),
    );
    expect(answer).toEqual({ workflow_id: expect.any(String), result: true });
    const run = await json(s.api(`/api/runs/${answer.workflow_id}`));
    expect(run.status).toBe("passed");
    images.push(run.image);
  });

  it("a server killed with kill -9 mid-run: a new one on the same --out finishes the run and its queue by itself", async () => {
    const out = join(tempDir(), "runs");
    const first = await serve(out, ["--concurrency", "1"]);
    server.enqueue(
      { ...GREET, delayMs: 20_000 },
      GREET,
      pass(["hello, world"]),
      GREET,
      pass(["hello, world"]),
    );
    const { id } = await json(first.api("/api/runs", { method: "POST", json: TASK }));
    await waitFor(first, id, () => server.chatRequests.length > 0);
    // A second run waits in the queue behind the first.
    const { id: waiting, status } = await json(first.api("/api/runs", { method: "POST", json: TASK }));
    expect(status).toBe("queued");
    first.child.kill("SIGKILL");
    await first.done;
    const second = await serve(out, ["--concurrency", "1"]);
    const passed = await waitFor(second, id, (r) => r.status === "passed");
    images.push(passed.image);
    const state = JSON.parse(readFileSync(join(out, id, "run.json"), "utf8"));
    expect(state.legs.map((l: { status: string }) => l.status)).toEqual(["interrupted", "passed"]);
    const queued = await waitFor(second, waiting, (r) => r.status === "passed");
    images.push(queued.image);
  });

  it("Ctrl-C stops the server and interrupts its run; the next server carries it on", async () => {
    const out = join(tempDir(), "runs");
    const first = await serve(out);
    server.enqueue({ ...GREET, delayMs: 20_000 }, GREET, pass(["hello, world"]));
    const { id } = await json(first.api("/api/runs", { method: "POST", json: TASK }));
    await waitFor(first, id, () => server.chatRequests.length > 0);
    first.child.kill("SIGINT");
    const stopped = await first.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain("stopping the runs in flight");
    expect(JSON.parse(readFileSync(join(out, id, "run.json"), "utf8")).status).toBe("interrupted");
    const second = await serve(out);
    const passed = await waitFor(second, id, (r) => r.status === "passed");
    images.push(passed.image);
  });

  it("a run of twelve rounds through the server prints no MaxListenersExceededWarning (nothing piles up on a signal the server keeps)", async () => {
    const out = join(tempDir(), "runs");
    const s = await serve(out);
    const rounds = 12;
    server.enqueue(generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "nope"]\n`, {}));
    // Every round a model call, a build and a run: each could leave a listener behind.
    for (let i = 1; i <= rounds; i++) {
      server.enqueue(
        fail("still wrong", { dockerfile: `FROM ${BUSYBOX}\nENTRYPOINT ["echo", "nope ${i}"]\n` }),
      );
    }
    const { id } = await json(
      s.api("/api/runs", { method: "POST", json: { ...TASK, options: { maxIterations: rounds } } }),
    );
    const failed = await waitFor(s, id, (r) => r.status === "failed");
    images.push(failed.image);
    expect(failed).toMatchObject({ iterations: rounds, stopReason: "max-iterations" });
    expect(server.chatRequests).toHaveLength(rounds + 1);
    // The warning goes to stderr, which the test reads whole once the server has stopped.
    s.child.kill("SIGINT");
    const stopped = await s.done;
    expect(stopped.stderr).not.toContain("MaxListenersExceededWarning");
    expect(stopped.stderr).not.toMatch(/memory leak/i);
  });

  it("GET /api/config says what a new run gets: the model and the endpoint, its secrets masked, never the key; read-only", async () => {
    const out = join(tempDir(), "runs");
    const token = "t0ken-for-the-config";
    const s = await startServe(["--out", out, "--token", token], {
      cwd: join(out, ".."),
      env: { ...env(), OPENAI_BASE_URL: `${server.url}?api-key=q5ecret-in-the-url`, AZLON_MODEL: "gpt-conf" },
      token,
    });
    started.push(s);
    expect((await fetch(`${s.url}/api/config`)).status).toBe(401);
    const res = await s.api("/api/config");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      projectsRoot: null,
      model: "gpt-conf",
      endpoint: `${server.url}?api-key=[secret]`,
      maxIterations: 20,
      maxCost: null,
      verdict: null,
    });
    for (const secret of [KEY, "q5ecret-in-the-url", token]) expect(text).not.toContain(secret);
    expect((await s.api("/api/config", { method: "PUT", json: { model: "x" } })).status).toBe(405);
  });

  it("auth: with --token every route but the page's static files needs the bearer token (the events route also takes ?token=)", async () => {
    const out = join(tempDir(), "runs");
    const token = "t0ken-for-the-test";
    const s = await serve(out, ["--token", token], token);
    for (const path of ["/healthz", "/api/runs", "/api/openapi.json", "/prompts", "/api/prompts"]) {
      const res = await fetch(`${s.url}${path}`);
      expect(res.status, path).toBe(401);
      const wrong = await fetch(`${s.url}${path}`, { headers: { authorization: "Bearer nope" } });
      expect(wrong.status, path).toBe(401);
    }
    expect((await fetch(`${s.url}/api/runs?token=${token}`)).status).toBe(401);
    // The page (which holds nothing of any run) loads without it: a browser opening a URL sends
    // no header; a path that only looks like an asset does not slip through.
    expect((await fetch(`${s.url}/`)).status).toBe(200);
    expect((await fetch(`${s.url}/assets/app.js`)).status).toBe(200);
    // Sent raw (fetch would tidy `..` away first); an encoded slash must not pass as an asset.
    expect(await statusOfRawGet(s.url, "/assets/../api/runs")).toBe(401);
    expect(await statusOfRawGet(s.url, "/assets/x/../../api/runs")).toBe(401);
    expect(await statusOfRawGet(s.url, "/assets/..%2Fapi%2Fruns")).toBe(401);
    // The page's EventSource cannot set headers: ?token= passes there (to a 404: no such run).
    expect((await fetch(`${s.url}/api/runs/nope/events?token=${token}`)).status).toBe(404);
    expect((await fetch(`${s.url}/api/runs/nope/events?token=wrong`)).status).toBe(401);
    const post = await fetch(`${s.url}/run_workflow`, { method: "POST", body: "{}" });
    expect(post.status).toBe(401);
    expect((await s.api("/healthz")).status).toBe(200);
    const doc = await json(s.api("/api/openapi.json"));
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/runs", "/api/runs/{id}/events", "/run_workflow"]),
    );
    // Bodies are checked, naming the field; sizes are bounded.
    const missing = await s.api("/api/runs", { method: "POST", json: { prompt: "x" } });
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.field).toBe("tests");
    const badOption = await json(
      s.api("/api/runs", { method: "POST", json: { ...TASK, options: { maxIterations: 0 } } }),
    );
    expect(badOption.error).toMatchObject({ field: "options.maxIterations" });
    // The endpoint is the server's: a request cannot send the server's API key elsewhere.
    const elsewhere = await s.api("/api/runs", {
      method: "POST",
      json: { ...TASK, options: { baseUrl: "http://127.0.0.1:9/v1" } },
    });
    expect(elsewhere.status).toBe(400);
    expect(JSON.stringify(await elsewhere.json())).toContain("baseUrl");
    expect(await statusOfOversized(s.url, token)).toBe(413);
    expect((await s.api("/api/runs/nope")).status).toBe(404);
    for (const path of [
      "/assets/..%2Fpackage.json",
      "/assets/%2e%2e%2fREADME.md",
      "/api/runs/..%2F..%2Fetc/files",
    ]) {
      expect((await s.api(path)).status, path).toBe(404);
    }
    // CORS is off: a page elsewhere gets no permission to read the answers.
    const cross = await s.api("/healthz", { headers: { origin: "http://elsewhere.test" } });
    expect(cross.headers.get("access-control-allow-origin")).toBeNull();
    // On 0.0.0.0 with a token it starts, and still answers 401 without it.
    // (Another --out: one server at a time drives a folder of runs.)
    const wide = await startServe(["--out", join(out, "..", "wide"), "--host", "0.0.0.0"], {
      cwd: join(out, ".."),
      env: { ...env(), AZLON_SERVE_TOKEN: token },
    });
    started.push(wide);
    expect((await fetch(`${wide.url.replace("0.0.0.0", "127.0.0.1")}/api/runs`)).status).toBe(401);
    // --cors lets that one origin in, and only it.
    const open = await serve(join(out, "..", "other"), ["--cors", "http://page.test"]);
    const allowed = await open.api("/healthz", { headers: { origin: "http://page.test" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://page.test");
    const other = await open.api("/healthz", { headers: { origin: "http://elsewhere.test" } });
    expect(other.headers.get("access-control-allow-origin")).not.toBe("http://elsewhere.test");
  });
});
