import { z } from "zod";
import {
  CreateRunSchema,
  OriginalPromptsSchema,
  PutPromptsSchema,
  ResumeSchema,
  WorkflowSchema,
} from "./schemas.js";

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
const json = (s: unknown) => ({ content: { "application/json": { schema: s } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, ...json(ref("Error")) });
const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
const errors = {
  "400": error("the request is invalid; error.field names the field"),
  "401": error("the server has a token and the request did not carry it"),
  "403": error(
    "the Host is not a name the server answers to (see --allow-host), or the Origin is another page's",
  ),
  "404": error("no such run (or file)"),
};
/** What a route that takes a body may answer besides. */
const bodyErrors = {
  "413": error("the body is over 1 MiB"),
  "415": error("the body is not sent as Content-Type: application/json"),
};
/** What a route that queues a run may answer besides. */
const queueFull = {
  "429": {
    ...error("the queue holds --max-queue runs already; nothing was written"),
    headers: { "Retry-After": { description: "seconds to wait", schema: { type: "integer" } } },
  },
};

const usage = {
  type: "object",
  properties: {
    promptTokens: { type: "integer" },
    completionTokens: { type: "integer" },
    cachedTokens: { type: "integer" },
  },
};
const status = { type: "string", enum: ["queued", "running", "passed", "failed", "error", "interrupted"] };
const runSummary = {
  type: "object",
  properties: {
    id: { type: "string" },
    status,
    stopReason: { type: ["string", "null"] },
    reason: { type: ["string", "null"] },
    iterations: { type: "integer" },
    maxIterations: { type: "integer" },
    phase: { type: ["string", "null"] },
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
    prompt: { type: "string", description: "the first 200 characters (the whole prompt in RunDetail)" },
    image: { type: ["string", "null"] },
    costUsd: { type: ["number", "null"] },
    usage,
  },
};

/** GET /api/openapi.json: the API, its request bodies made from the same zod schemas that check them. */
export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "azlon serve",
      version: "1",
      description:
        "Start, watch, cancel and resume azlon runs. When the server has a token, every route but the page's static files (`GET /`, `/assets/*`) needs `Authorization: Bearer <token>` (the events route also takes `?token=`). On loopback a request whose Host is not the bound address, localhost, 127.0.0.1, [::1] or an --allow-host name is refused (403), as is, everywhere, one whose Origin is neither the server's own nor the --cors origin. Bodies are JSON: sent with another Content-Type (or none) they are refused (415); a POST that needs nothing needs no body. OPTIONS answers a route's methods in Allow (with --cors, the CORS preflight); a method a route does not take is a 405.",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: {
          type: "object",
          properties: {
            error: {
              type: "object",
              properties: { message: { type: "string" }, field: { type: "string" } },
              required: ["message"],
            },
          },
        },
        CreateRun: schema(CreateRunSchema),
        Resume: schema(ResumeSchema),
        PutPrompts: schema(PutPromptsSchema),
        Workflow: schema(WorkflowSchema),
        OriginalPrompts: schema(OriginalPromptsSchema),
        RunSummary: runSummary,
        RunDetail: {
          allOf: [
            ref("RunSummary"),
            {
              type: "object",
              properties: {
                tests: { type: "string" },
                model: { type: "string", description: "the model the run asks" },
                checks: { type: "array", items: { type: "string" } },
                verdict: { type: "string", enum: ["checks", "judge", "both"] },
                progress: { type: "object" },
                iterationSummaries: { type: "array", items: { type: "object" } },
                result: { description: "the --json result object once the run has ended, else null" },
              },
            },
          ],
        },
        Accepted: {
          type: "object",
          properties: { id: { type: "string" }, status, url: { type: "string" } },
        },
        Prompts: {
          type: "object",
          properties: {
            templates: {
              type: "object",
              additionalProperties: {
                type: "object",
                properties: { text: { type: "string" }, source: { type: "string" } },
              },
            },
            placeholders: {
              type: "object",
              additionalProperties: { type: "array", items: { type: "string" } },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      "/api/runs": {
        post: {
          summary: "start a run (queued beyond --concurrency)",
          requestBody: { required: true, ...json(ref("CreateRun")) },
          responses: {
            "202": { description: "accepted", ...json(ref("Accepted")) },
            ...errors,
            ...bodyErrors,
            ...queueFull,
          },
        },
        get: {
          summary: "the runs, newest first",
          parameters: [
            { name: "status", in: "query", schema: status },
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: 200, default: 50 },
            },
            { name: "offset", in: "query", schema: { type: "integer", minimum: 0, default: 0 } },
          ],
          responses: {
            "200": {
              description: "a page of runs",
              ...json({
                type: "object",
                properties: { runs: { type: "array", items: ref("RunSummary") }, total: { type: "integer" } },
              }),
            },
            ...errors,
          },
        },
      },
      "/api/runs/{id}": {
        get: {
          summary: "one run",
          parameters: [idParam],
          responses: { "200": { description: "the run", ...json(ref("RunDetail")) }, ...errors },
        },
      },
      "/api/runs/{id}/cancel": {
        post: {
          summary: "cancel a queued or running run (no body needed)",
          parameters: [idParam],
          responses: {
            "202": { description: "cancelling", ...json(ref("Accepted")) },
            ...errors,
            "409": error("not queued or running"),
          },
        },
      },
      "/api/runs/{id}/resume": {
        post: {
          summary: "carry on a run that stopped, raising its limits (no body: as it is)",
          parameters: [idParam],
          requestBody: { required: false, ...json(ref("Resume")) },
          responses: {
            "202": { description: "queued", ...json(ref("Accepted")) },
            ...errors,
            ...bodyErrors,
            "409": error("passed, or still going"),
            ...queueFull,
          },
        },
      },
      "/api/runs/{id}/events": {
        get: {
          summary:
            "the run's journal as server-sent events from the start (or after Last-Event-ID), then live; `end` when the run is over",
          parameters: [
            idParam,
            { name: "Last-Event-ID", in: "header", schema: { type: "string" } },
            { name: "lastEventId", in: "query", schema: { type: "string" } },
            { name: "token", in: "query", schema: { type: "string" } },
          ],
          responses: {
            "200": { description: "text/event-stream", content: { "text/event-stream": {} } },
            ...errors,
          },
        },
      },
      "/api/runs/{id}/files": {
        get: {
          summary: "the workspace's files",
          parameters: [idParam],
          responses: {
            "200": {
              description: "files",
              ...json({
                type: "object",
                properties: {
                  files: {
                    type: "array",
                    items: {
                      type: "object",
                      properties: { path: { type: "string" }, bytes: { type: "integer" } },
                    },
                  },
                },
              }),
            },
            ...errors,
          },
        },
      },
      "/api/runs/{id}/files/{path}": {
        get: {
          summary: "one workspace file, as text/plain",
          parameters: [idParam, { name: "path", in: "path", required: true, schema: { type: "string" } }],
          responses: { "200": { description: "the file", content: { "text/plain": {} } }, ...errors },
        },
      },
      "/api/runs/{id}/iterations/{n}": {
        get: {
          summary: "one round: summary, log tails, checks, verdict and the files its apply step changed",
          parameters: [
            idParam,
            { name: "n", in: "path", required: true, schema: { type: "integer", minimum: 1 } },
          ],
          responses: { "200": { description: "the round", ...json({ type: "object" }) }, ...errors },
        },
      },
      "/api/prompts": {
        get: {
          summary: "the templates new runs use",
          responses: { "200": { description: "templates", ...json(ref("Prompts")) } },
        },
        put: {
          summary: "replace templates (kept under <out>/.azlon-serve/prompts/, used by new runs)",
          requestBody: { required: true, ...json(ref("PutPrompts")) },
          responses: {
            "200": { description: "templates", ...json(ref("Prompts")) },
            ...errors,
            ...bodyErrors,
          },
        },
      },
      "/api/config": {
        get: {
          summary: "what a new run gets by default: the server's model, endpoint (secrets masked) and limits",
          responses: {
            "200": {
              description: "the defaults",
              ...json({
                type: "object",
                properties: {
                  model: { type: "string" },
                  endpoint: { type: "string", description: "the base URL, its secrets masked" },
                  maxIterations: { type: "integer" },
                  maxCost: { type: ["number", "null"] },
                  verdict: { type: ["string", "null"], enum: ["checks", "judge", "both", null] },
                },
              }),
            },
            ...errors,
          },
        },
      },
      "/api/openapi.json": {
        get: { summary: "this document", responses: { "200": { description: "OpenAPI 3.1" } } },
      },
      "/healthz": {
        get: { summary: "the server is up", responses: { "200": { description: '{"ok":true}' } } },
      },
      "/run_workflow": {
        post: {
          summary: "the original's route: runs and waits; result is true when the run passed",
          requestBody: { required: true, ...json(ref("Workflow")) },
          responses: {
            "200": {
              description: "the run's end",
              ...json({
                type: "object",
                properties: { workflow_id: { type: "string" }, result: { type: "boolean" } },
              }),
            },
            ...errors,
            ...bodyErrors,
            ...queueFull,
          },
        },
      },
      "/prompts": {
        get: {
          summary: "the original's route: the generate and validate system templates",
          responses: { "200": { description: "templates", ...json({ type: "object" }) } },
        },
        post: {
          summary: "the original's route: replace the generate and/or validate system template",
          requestBody: { required: true, ...json(ref("OriginalPrompts")) },
          responses: { "200": { description: '{"status":"updated"}' }, ...errors, ...bodyErrors },
        },
      },
    },
  };
}
