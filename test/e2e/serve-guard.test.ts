import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { generation } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { type RawAnswer, rawRequest, type Served, startServe } from "../helpers/serve.js";
import { tempDir } from "../helpers/tmp.js";

// What a web page the user visits can make a browser send to 127.0.0.1, and what it cannot.

const KEY = "sk-test-guard-0123456789";
const { server } = loopbackModel();
const started: Served[] = [];

beforeEach(() => {
  // Every model call hangs: a run stays in its first step until the test cancels it.
  server.fallback = {
    ...generation(`FROM ${BUSYBOX}\nCMD ["true"]\n`, {}),
    delayMs: 60_000,
  };
});

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

const TASK = { prompt: "a script that greets", tests: "it prints hello, world" };

// biome-ignore lint/suspicious/noExplicitAny: tests read the API's JSON loosely
const body = (answer: RawAnswer): any => JSON.parse(answer.body);

/** Every file under `dir` with its contents: what a refused request must leave as it was. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string) => {
    let names: string[];
    try {
      names = readdirSync(at);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(dir, path)] = readFileSync(path, "utf8");
    }
  };
  walk(dir);
  return files;
}

const runFolders = (out: string) => Object.keys(snapshot(out)).filter((p) => p.endsWith("/run.json"));

const post = (s: Served, path: string, json: unknown, headers: Record<string, string> = {}) =>
  rawRequest(s.url, {
    method: "POST",
    path,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(json),
  });

it("refuses an --allow-host or --cors that is not a bare name or one origin, before it starts (exit 2)", async () => {
  const cwd = tempDir();
  for (const [flag, value, fix] of [
    ["--allow-host", "http://devbox.lan:8787", "--allow-host devbox.lan"],
    ["--cors", "*", "--cors http://localhost:3000"],
    ["--cors", "http://page.test/app", "--cors http://localhost:3000"],
  ] as const) {
    const result = await runCli(["serve", "--port", "0", "--out", join(cwd, "runs"), flag, value], {
      cwd,
      env: env(),
    });
    expect(result.code, value).toBe(2);
    expect(result.stderr, value).toContain(`fix: pass `);
    expect(result.stderr, value).toContain(fix);
  }
});

describeDocker("azlon serve answers its own page and callers that are not pages (real server)", () => {
  it("DNS rebinding: a request for Host evil.example is refused on every route, naming --allow-host; the local names are served, with or without the port", async () => {
    const out = join(tempDir(), "runs");
    const s = await serve(out, ["--concurrency", "1"]);
    const port = new URL(s.url).port;
    // A run whose data a rebound page would read.
    const { id } = JSON.parse((await post(s, "/api/runs", TASK)).body);
    const routes = [
      "/",
      "/assets/app.js",
      "/healthz",
      "/api/openapi.json",
      "/api/runs",
      `/api/runs/${id}`,
      `/api/runs/${id}/events`,
      `/api/runs/${id}/files`,
      `/api/runs/${id}/iterations/1`,
      "/api/prompts",
      "/prompts",
    ];
    for (const path of routes) {
      for (const host of ["evil.example", `evil.example:${port}`]) {
        const answer = await rawRequest(s.url, { path, headers: { host } });
        expect(answer.status, `${host} ${path}`).toBe(403);
        expect(answer.body, `${host} ${path}`).not.toContain(id);
      }
    }
    const refused = await rawRequest(s.url, { path: "/api/runs", headers: { host: "evil.example" } });
    expect(body(refused).error.message).toContain("--allow-host evil.example");
    // Nor may it start a run or replace a prompt.
    expect((await post(s, "/api/runs", TASK, { host: "evil.example" })).status).toBe(403);
    expect(
      (await post(s, "/prompts", { generate_code_prompt: "HIJACKED {{limits}}" }, { host: "evil.example" }))
        .status,
    ).toBe(403);
    // No Host at all is no browser's request: refused too (Node answers 400 before azlon sees it).
    const hostless = await rawRequest(s.url, { path: "/api/runs", headers: { host: null } });
    expect(hostless.status).toBeGreaterThanOrEqual(400);
    expect(runFolders(out)).toEqual([`${id}/run.json`]);
    // Nothing saved there (the server's own lock aside): no prompt was replaced.
    expect(Object.keys(snapshot(join(out, ".azlon-serve"))).filter((p) => p !== "serve.lock")).toEqual([]);
    // The names the server is reached by on this machine, with or without the port.
    for (const host of ["127.0.0.1", "localhost", "LocalHost", "[::1]"]) {
      for (const named of [host, `${host}:${port}`]) {
        const answer = await rawRequest(s.url, { path: "/api/runs", headers: { host: named } });
        expect(answer.status, named).toBe(200);
        expect(answer.body, named).toContain(id);
      }
    }

    // --allow-host adds names; others are still refused.
    const named = await serve(join(out, "..", "named"), [
      "--allow-host",
      "devbox.lan",
      "--allow-host",
      "Box2",
    ]);
    for (const host of ["devbox.lan", "devbox.lan:8787", "box2"]) {
      expect((await rawRequest(named.url, { path: "/healthz", headers: { host } })).status, host).toBe(200);
    }
    const other = await rawRequest(named.url, { path: "/healthz", headers: { host: "evil.example" } });
    expect(other.status).toBe(403);

    // Beyond loopback the token guards every route and the server is reached by the network's
    // names: any passes, unless --allow-host lists them.
    const token = "t0ken-for-the-guard";
    const wide = await serve(join(out, "..", "wide"), ["--host", "0.0.0.0", "--token", token]);
    const wideUrl = wide.url.replace("0.0.0.0", "127.0.0.1");
    const auth = { authorization: `Bearer ${token}` };
    expect((await rawRequest(wideUrl, { path: "/api/runs", headers: { host: "devbox" } })).status).toBe(401);
    expect(
      (await rawRequest(wideUrl, { path: "/api/runs", headers: { host: "devbox", ...auth } })).status,
    ).toBe(200);
    const listed = await serve(join(out, "..", "listed"), [
      "--host",
      "0.0.0.0",
      "--token",
      token,
      "--allow-host",
      "devbox",
    ]);
    const listedUrl = listed.url.replace("0.0.0.0", "127.0.0.1");
    for (const [host, status] of [
      ["devbox", 200],
      ["127.0.0.1", 200],
      ["evil.example", 403],
    ] as const) {
      const answer = await rawRequest(listedUrl, { path: "/api/runs", headers: { host, ...auth } });
      expect(answer.status, host).toBe(status);
    }
  });

  it("a cross-site 'simple' POST (text/plain or a form encoding, as an HTML form sends) is 415 and starts nothing, changes nothing", async () => {
    const out = join(tempDir(), "runs");
    const s = await serve(out);
    const before = snapshot(out);
    const prompts = (await rawRequest(s.url, { path: "/prompts" })).body;
    const attacks: Array<[string, string, unknown]> = [
      ["POST", "/api/runs", TASK],
      ["POST", "/run_workflow", { user_prompt: TASK.prompt, test_conditions: TASK.tests }],
      ["POST", "/prompts", { generate_code_prompt: "HIJACKED {{limits}}" }],
      ["PUT", "/api/prompts", { templates: { generateSystem: "HIJACKED {{limits}}" } }],
      ["POST", "/api/runs/nope/resume", {}],
      ["POST", "/api/runs/nope/cancel", {}],
    ];
    for (const [method, path, json] of attacks) {
      for (const type of [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json-patch+json",
        "application/json; foo=bar",
        null,
      ]) {
        const answer = await rawRequest(s.url, {
          method,
          path,
          headers: { "content-type": type },
          body: JSON.stringify(json),
        });
        expect(answer.status, `${method} ${path} ${type}`).toBe(415);
        expect(body(answer).error.message).toContain("Content-Type: application/json");
      }
    }
    expect(snapshot(out)).toEqual(before);
    expect((await rawRequest(s.url, { path: "/prompts" })).body).toBe(prompts);
    expect(server.chatRequests).toHaveLength(0);
    // The API's document says so.
    const doc = body(await rawRequest(s.url, { path: "/api/openapi.json" }));
    for (const [method, path] of [
      ["post", "/api/runs"],
      ["post", "/run_workflow"],
      ["post", "/prompts"],
      ["put", "/api/prompts"],
      ["post", "/api/runs/{id}/resume"],
    ] as const) {
      expect(Object.keys(doc.paths[path][method].responses), path).toEqual(
        expect.arrayContaining(["403", "415"]),
      );
    }
    expect(doc.paths["/run_workflow"].post.responses["429"].headers).toHaveProperty("Retry-After");

    // JSON, with a charset or sent in chunks (no length), is taken.
    const saved = await post(
      s,
      "/prompts",
      { generate_code_prompt: "MINE {{limits}}" },
      { "content-type": "application/json; charset=utf-8" },
    );
    expect(saved.status).toBe(200);
    const chunked = await rawRequest(s.url, {
      method: "PUT",
      path: "/api/prompts",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ templates: { validateSystem: "CHUNKED" } }),
      chunked: true,
    });
    expect(chunked.status, chunked.body).toBe(200);
    const now = body(await rawRequest(s.url, { path: "/prompts" }));
    expect(now).toEqual({ generate_code_prompt: "MINE {{limits}}", validate_output_prompt: "CHUNKED" });
    // A chunked body over the limit is refused as one that says its length is.
    const huge = await rawRequest(s.url, {
      method: "POST",
      path: "/prompts",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ generate_code_prompt: "x".repeat(1100 * 1024) }),
      chunked: true,
    });
    expect(huge.status).toBe(413);
  });

  it("a request from a page of another origin is refused (403); the server's own page, the --cors origin and callers without Origin are served", async () => {
    const out = join(tempDir(), "runs");
    const s = await serve(out);
    const port = new URL(s.url).port;
    for (const origin of [
      "http://evil.example",
      "https://evil.example",
      "null",
      `http://evil.example:${port}`,
    ]) {
      const read = await rawRequest(s.url, { path: "/api/runs", headers: { origin } });
      expect(read.status, origin).toBe(403);
      expect(body(read).error.message).toContain("another origin");
      expect((await post(s, "/api/runs", TASK, { origin })).status, origin).toBe(403);
      const hijack = await post(s, "/prompts", { generate_code_prompt: "HIJACKED {{limits}}" }, { origin });
      expect(hijack.status, origin).toBe(403);
    }
    expect(runFolders(out)).toEqual([]);
    // Nothing saved there (the server's own lock aside): no prompt was replaced.
    expect(Object.keys(snapshot(join(out, ".azlon-serve"))).filter((p) => p !== "serve.lock")).toEqual([]);
    // The page this server serves, as the browser names it, whichever local name it was opened by.
    expect((await rawRequest(s.url, { path: "/api/runs", headers: { origin: s.url } })).status).toBe(200);
    const local = await rawRequest(s.url, {
      path: "/api/runs",
      headers: { host: `localhost:${port}`, origin: `http://localhost:${port}` },
    });
    expect(local.status).toBe(200);
    const own = await post(s, "/prompts", { generate_code_prompt: "MINE {{limits}}" }, { origin: s.url });
    expect(own.status).toBe(200);
    // Scripts and curl send no Origin.
    expect((await rawRequest(s.url, { path: "/api/runs" })).status).toBe(200);

    // --cors lets its one origin in, preflight included; any other is refused.
    const open = await serve(join(out, "..", "open"), ["--cors", "http://page.test"]);
    const allowed = await rawRequest(open.url, {
      path: "/api/runs",
      headers: { origin: "http://page.test" },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers["access-control-allow-origin"]).toBe("http://page.test");
    const preflight = await rawRequest(open.url, {
      method: "OPTIONS",
      path: "/api/runs",
      headers: {
        origin: "http://page.test",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("http://page.test");
    expect(preflight.headers["access-control-allow-methods"]).toContain("POST");
    const foreign = await rawRequest(open.url, {
      method: "OPTIONS",
      path: "/api/runs",
      headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("POSTs with no body, as curl sends them, cancel a queued and a running run and resume one; OPTIONS answers every route, never a 500", async () => {
    const out = join(tempDir(), "runs");
    const s = await serve(out, ["--concurrency", "1"]);
    const bare = (path: string) => rawRequest(s.url, { method: "POST", path });
    const a = JSON.parse((await post(s, "/api/runs", TASK)).body);
    const b = JSON.parse((await post(s, "/api/runs", TASK)).body);
    expect([a.status, b.status]).toEqual(["running", "queued"]);

    const cancelQueued = await bare(`/api/runs/${b.id}/cancel`);
    expect(cancelQueued.status, cancelQueued.body).toBe(202);
    expect(body(cancelQueued)).toEqual({ id: b.id, status: "interrupted" });
    for (let i = 0; i < 100 && server.chatRequests.length === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    const cancelRunning = await bare(`/api/runs/${a.id}/cancel`);
    expect(cancelRunning.status, cancelRunning.body).toBe(202);
    let status = "";
    for (let i = 0; i < 100 && status !== "interrupted"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = body(await rawRequest(s.url, { path: `/api/runs/${a.id}` })).status;
    }
    expect(status).toBe("interrupted");
    // A resume with nothing to raise needs no body either.
    const resumed = await bare(`/api/runs/${b.id}/resume`);
    expect(resumed.status, resumed.body).toBe(202);
    expect((await bare(`/api/runs/${b.id}/cancel`)).status).toBe(202);

    // OPTIONS says what each route takes; a method a route does not take is a 405.
    for (const [path, method] of [
      ["/", "GET"],
      ["/assets/app.js", "GET"],
      ["/healthz", "GET"],
      ["/api/openapi.json", "GET"],
      ["/api/runs", "POST"],
      [`/api/runs/${a.id}`, "GET"],
      [`/api/runs/${a.id}/cancel`, "POST"],
      [`/api/runs/${a.id}/resume`, "POST"],
      [`/api/runs/${a.id}/events`, "GET"],
      [`/api/runs/${a.id}/files`, "GET"],
      [`/api/runs/${a.id}/files/Dockerfile`, "GET"],
      [`/api/runs/${a.id}/iterations/1`, "GET"],
      ["/api/prompts", "PUT"],
      ["/run_workflow", "POST"],
      ["/prompts", "POST"],
    ] as const) {
      const answer = await rawRequest(s.url, { method: "OPTIONS", path });
      expect(answer.status, path).toBe(204);
      expect(answer.headers.allow, path).toContain(method);
    }
    expect((await rawRequest(s.url, { method: "OPTIONS", path: "/nope" })).status).toBe(404);
    const wrong = await rawRequest(s.url, { method: "DELETE", path: `/api/runs/${a.id}` });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toContain("GET");
    expect(body(wrong).error.message).toContain("DELETE is not allowed");
  });

  it("the queue is bounded: beyond --max-queue (100 by default) a run request gets 429 with Retry-After and nothing is written", async () => {
    const out = join(tempDir(), "runs");
    const s = await serve(out, ["--concurrency", "1"]);
    const ids: string[] = [];
    // One runs, a hundred wait.
    for (let i = 0; i < 101; i++) {
      const answer = await post(s, "/api/runs", TASK);
      expect(answer.status, `request ${i + 1}`).toBe(202);
      ids.push(body(answer).id);
    }
    const before = snapshot(out);
    for (const [path, json] of [
      ["/api/runs", TASK],
      ["/run_workflow", { user_prompt: TASK.prompt, test_conditions: TASK.tests }],
    ] as const) {
      const full = await post(s, path, json);
      expect(full.status, path).toBe(429);
      expect(full.headers["retry-after"], path).toBe("60");
      expect(body(full).error.message, path).toContain("--max-queue");
    }
    expect(snapshot(out)).toEqual(before);
    expect(runFolders(out)).toHaveLength(101);
    // A run that leaves the queue makes room for one more.
    expect((await rawRequest(s.url, { method: "POST", path: `/api/runs/${ids[100]}/cancel` })).status).toBe(
      202,
    );
    expect((await post(s, "/api/runs", TASK)).status).toBe(202);
    const after = snapshot(out);
    expect((await post(s, "/api/runs", TASK)).status).toBe(429);
    // A resume waits in the same queue: refused as well, its run folder untouched.
    const resume = await rawRequest(s.url, { method: "POST", path: `/api/runs/${ids[100]}/resume` });
    expect(resume.status, resume.body).toBe(429);
    expect(snapshot(out)).toEqual(after);

    // --max-queue 0: nothing waits; a run is taken only when a slot is free.
    const none = await serve(join(out, "..", "none"), ["--concurrency", "1", "--max-queue", "0"]);
    expect((await post(none, "/api/runs", TASK)).status).toBe(202);
    expect((await post(none, "/api/runs", TASK)).status).toBe(429);
    expect(runFolders(join(out, "..", "none"))).toHaveLength(1);
  });
});
