import { timingSafeEqual } from "node:crypto";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { Config } from "../config/schema.js";
import { ConfigError, FatalError, LockedError, RunStateError } from "../core/errors.js";
import { readRun } from "../engine/runs.js";
import type { TemplateName } from "../prompts/templates.js";
import { webFile } from "../report/assets.js";
import { readPatch } from "../report/read.js";
import { eventStream } from "./events.js";
import { hostGuard, jsonOnly, originGuard } from "./guard.js";
import { declaredSize, errorBody, HttpError, jsonBody, query } from "./http.js";
import { ConflictError, QueueFullError, type RunManager } from "./manager.js";
import { openApiDocument } from "./openapi.js";
import type { PromptStore } from "./prompts.js";
import {
  CreateRunSchema,
  ListQuerySchema,
  OriginalPromptsSchema,
  PutPromptsSchema,
  ResumeSchema,
  WorkflowSchema,
} from "./schemas.js";
import {
  defaultsOf,
  detailOf,
  iterationOf,
  listFiles,
  type RunSummary,
  summaryOf,
  workspaceFile,
} from "./views.js";

export interface AppOptions {
  manager: RunManager;
  /** The server's resolved config: what a new run gets by default (GET /api/config). */
  config: Config;
  prompts: PromptStore;
  outDir: string;
  /** Every route but the page's static files needs `Authorization: Bearer <token>` when set. */
  token: string | null;
  /** The one origin allowed to call the API from a browser; none by default. */
  cors: string | null;
  /** The Host names answered (see allowedHosts); null: any. */
  hosts: Set<string> | null;
  /** The folder whose subfolders a run may start from (`from`); null: none may. */
  projectsRoot?: string | null;
}

/**
 * The folder a request's `from` names, as a real path inside the server's --projects-root (the
 * root itself included); anything else, a link out of it too, is refused (400).
 */
export function projectUnder(root: string | null | undefined, from: string): string {
  if (!root) {
    throw new HttpError(
      400,
      "this server takes no `from`: start azlon serve with --projects-root <dir>",
      "from",
    );
  }
  let real: string;
  try {
    real = realpathSync(resolve(root, from));
  } catch {
    throw new HttpError(400, `from: ${from} is not a folder under the server's projects root`, "from");
  }
  const rel = relative(realpathSync(root), real);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new HttpError(400, `from: ${from} is outside the server's projects root`, "from");
  }
  return real;
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const ASSET_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
};

/** The HTTP face of the run manager: thin routes over the engine's run folders. */
export function createApp(o: AppOptions): Hono {
  const { manager, prompts } = o;
  const app = new Hono();

  app.onError((error, c) => {
    // Messages may quote the endpoint or a value given: masked like everything azlon shows.
    const masked = (text: string) => manager.redactor.redactMessage(text);
    if (error instanceof HttpError)
      return c.json(errorBody(masked(error.message), error.field), error.status);
    if (error instanceof QueueFullError)
      return c.json(errorBody(error.message), 429, { "Retry-After": String(error.retryAfter) });
    if (error instanceof ConflictError || error instanceof RunStateError || error instanceof LockedError)
      return c.json(errorBody(masked(error.message)), 409);
    if (error instanceof FatalError) {
      const hint = error.hint ? ` (${error.hint})` : "";
      return c.json(errorBody(masked(`${error.message}${hint}`)), 400);
    }
    return c.json(errorBody(masked(`unexpected error (a bug in azlon): ${error.message}`)), 500);
  });
  app.notFound((c) => c.json(errorBody("not found"), 404));

  // Who is asking first: a foreign Host or Origin learns nothing, not even whether a token is set.
  app.use("*", hostGuard(o.hosts));
  app.use("*", originGuard(o.cors));
  if (o.cors)
    app.use(
      "*",
      cors({
        origin: o.cors,
        allowMethods: ["GET", "HEAD", "POST", "PUT"],
        allowHeaders: ["Authorization", "Content-Type", "Last-Event-ID"],
      }),
    );
  // OPTIONS (no preflight) says what a route takes; a method it does not take is a 405.
  app.use(
    "*",
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => {
        const allow = [...methods, "OPTIONS"].join(", ");
        // A fresh response: the 404's JSON headers would describe a body it does not have.
        if (c.req.method === "OPTIONS") return new Response(null, { status: 204, headers: { Allow: allow } });
        return c.json(errorBody(`${c.req.method} is not allowed here; this route takes ${allow}`), 405, {
          Allow: allow,
        });
      },
    }),
  );
  app.use("*", async (c, next) => {
    if (!o.token) return next();
    // The page itself (its HTML, script and style) holds nothing of any run, and a browser
    // cannot send a header when it opens a URL: it loads freely, then every call it makes
    // to the API carries the token.
    if (c.req.method === "GET" && (c.req.path === "/" || /^\/assets\/[\w.-]+$/.test(c.req.path))) {
      return next();
    }
    const header = c.req.header("authorization") ?? "";
    const bearer = header.startsWith("Bearer ") ? header.slice(7) : null;
    // EventSource cannot set headers: the page passes the token in the query, on /events only.
    const inQuery = /^\/api\/runs\/[^/]+\/events$/.test(c.req.path) ? (c.req.query("token") ?? null) : null;
    const given = bearer ?? inQuery;
    if (given === null || !sameSecret(given, o.token)) {
      c.header("WWW-Authenticate", 'Bearer realm="azlon"');
      return c.json(errorBody("this server needs Authorization: Bearer <token>"), 401);
    }
    return next();
  });
  app.use("*", declaredSize);
  app.use("*", jsonOnly);

  const runDir = (id: string): string => {
    const dir = manager.dirOf(id);
    if (!dir) throw new HttpError(404, `no run ${id}`);
    return dir;
  };
  const summary = (id: string, dir: string): RunSummary | null => {
    try {
      return summaryOf(readRun(dir, manager.redactor).state, manager.statusOf(id), manager.phaseOf(id));
    } catch {
      return null;
    }
  };

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/api/openapi.json", (c) => c.json(openApiDocument()));
  app.get("/api/config", (c) => c.json(defaultsOf(o.config, manager.redactor, o.projectsRoot ?? null)));

  app.post("/api/runs", async (c) => {
    const body = await jsonBody(c, CreateRunSchema);
    // Validated as config by CreateRunSchema (a strict pick of ConfigSchema).
    const layer: Partial<Config> = {
      ...body.options,
      ...(body.checks ? { checks: body.checks } : {}),
      ...(body.from !== undefined ? { from: projectUnder(o.projectsRoot, body.from) } : {}),
    };
    const { id, status } = manager.create({ prompt: body.prompt, tests: body.tests }, layer);
    return c.json({ id, status, url: `/api/runs/${id}` }, 202);
  });

  app.get("/api/runs", (c) => {
    const q = query(c, ListQuerySchema);
    // Newest first; runs made in the same millisecond by their folders' finer creation times.
    const made = (id: string) => statSync(join(o.outDir, id)).birthtimeMs;
    const all = manager
      .ids()
      .map((id) => summary(id, join(o.outDir, id)))
      .filter((r): r is RunSummary => r !== null && (!q.status || r.status === q.status))
      .sort((a, b) =>
        a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : made(b.id) - made(a.id),
      );
    return c.json({ runs: all.slice(q.offset, q.offset + q.limit), total: all.length });
  });

  app.get("/api/runs/:id", (c) => {
    const id = c.req.param("id");
    const dir = runDir(id);
    const { state } = readRun(dir, manager.redactor);
    const result = manager.resultOf(id, dir);
    return c.json(detailOf(state, manager.statusOf(id), manager.phaseOf(id), result, readPatch(dir)));
  });

  app.post("/api/runs/:id/cancel", (c) => {
    const id = c.req.param("id");
    return c.json({ id, status: manager.cancel(id, runDir(id)) }, 202);
  });

  app.post("/api/runs/:id/resume", async (c) => {
    const id = c.req.param("id");
    const dir = runDir(id);
    const body = await jsonBody(c, ResumeSchema);
    return c.json({ id, status: manager.resume(id, dir, body.options ?? {}) }, 202);
  });

  app.get("/api/runs/:id/events", (c) => {
    const id = c.req.param("id");
    return eventStream(c, manager, id, runDir(id));
  });

  app.get("/api/runs/:id/files", (c) => {
    const { folder } = readRun(runDir(c.req.param("id")), manager.redactor);
    return c.json({ files: listFiles(folder.workspaceDir) });
  });

  app.get("/api/runs/:id/files/*", (c) => {
    const id = c.req.param("id");
    const { folder } = readRun(runDir(id), manager.redactor);
    const prefix = `/api/runs/${id}/files/`;
    let rel: string;
    try {
      rel = decodeURIComponent(c.req.path.slice(prefix.length));
    } catch {
      throw new HttpError(404, "no such file");
    }
    const path = workspaceFile(folder.workspaceDir, rel);
    if (!path) throw new HttpError(404, "no such file");
    const bytes = readFileSync(path);
    // The workspace holds the project as the model wrote it: masked here all the same, so no
    // route ever hands out the API key. Binary files go out as they are.
    const body = bytes.subarray(0, 8000).includes(0)
      ? bytes
      : manager.redactor.redact(bytes.toString("utf8"));
    // The model's output is shown as text, never run as a page.
    return c.body(body, 200, {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
    });
  });

  app.get("/api/runs/:id/iterations/:n", (c) => {
    const n = Number(c.req.param("n"));
    if (!Number.isInteger(n) || n < 1) throw new HttpError(404, "no such iteration");
    const { state, folder } = readRun(runDir(c.req.param("id")), manager.redactor);
    const round = iterationOf(folder, state, n);
    if (!round) throw new HttpError(404, `run ${state.runId} has no iteration ${n}`);
    return c.json(round);
  });

  const promptsView = () => {
    const view = prompts.view();
    return { templates: view.templates, placeholders: view.placeholders };
  };
  app.get("/api/prompts", (c) => c.json(promptsView()));
  app.put("/api/prompts", async (c) => {
    const body = await jsonBody(c, PutPromptsSchema);
    savePrompts(prompts, body.templates as Partial<Record<TemplateName, string>>);
    return c.json(promptsView());
  });

  // The original's routes, kept so its clients go on working.
  app.post("/run_workflow", async (c) => {
    const body = await jsonBody(c, WorkflowSchema);
    const { id } = manager.create({ prompt: body.user_prompt, tests: body.test_conditions }, {});
    const status = await manager.whenDone(id);
    return c.json({ workflow_id: id, result: status === "passed" });
  });
  app.get("/prompts", (c) => {
    const { templates } = prompts.view();
    return c.json({
      generate_code_prompt: templates.generateSystem.text,
      validate_output_prompt: templates.validateSystem.text,
    });
  });
  app.post("/prompts", async (c) => {
    const body = await jsonBody(c, OriginalPromptsSchema);
    const updates: Partial<Record<TemplateName, string>> = {};
    if (body.generate_code_prompt !== undefined) updates.generateSystem = body.generate_code_prompt;
    if (body.validate_output_prompt !== undefined) updates.validateSystem = body.validate_output_prompt;
    savePrompts(prompts, updates, {
      generateSystem: "generate_code_prompt",
      validateSystem: "validate_output_prompt",
    });
    return c.json({ status: "updated" });
  });

  app.get("/", (c) => {
    const page = webFile("index.html");
    if (!page) return c.text("azlon serve: the web page is not installed; the API is at /api\n");
    c.header("content-security-policy", "default-src 'self'; img-src 'self' data:; style-src 'self'");
    return c.html(page.toString("utf8"));
  });
  app.get("/assets/:file", (c) => {
    const file = c.req.param("file");
    const ext = /^[\w.-]+\.(js|css|svg|png)$/.exec(file)?.[1];
    const type = ext ? ASSET_TYPES[ext] : undefined;
    const body = type ? webFile(file) : null;
    if (!type || !body) throw new HttpError(404, "not found");
    return c.body(new Uint8Array(body), 200, {
      "content-type": type,
      "x-content-type-options": "nosniff",
    });
  });
  return app;
}

/** Saves templates; one with an unknown placeholder is a 400 naming it and its field. */
function savePrompts(
  store: PromptStore,
  updates: Partial<Record<TemplateName, string>>,
  fields: Partial<Record<TemplateName, string>> = {},
): void {
  try {
    store.save(updates);
  } catch (error) {
    if (error instanceof ConfigError) {
      const name = /prompt template (\w+)/.exec(error.message)?.[1] as TemplateName | undefined;
      const field = name ? (fields[name] ?? `templates.${name}`) : undefined;
      throw new HttpError(400, `${error.message}; ${error.hint ?? ""}`.replace(/; $/, ""), field);
    }
    throw error;
  }
}

export type { Context };
