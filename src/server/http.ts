import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import { acceptsFor } from "../config/wording.js";

/** A request the server refuses, with the status and (when one is to blame) the field. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 413,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function errorBody(message: string, field?: string) {
  return { error: field ? { message, field } : { message } };
}

/** The first problem zod found, as one sentence naming the field. */
export function zodProblem(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  if (!issue) return new HttpError(400, "invalid request");
  if (issue.code === "unrecognized_keys") {
    const prefix = issue.path.length ? `${issue.path.join(".")}.` : "";
    const field = `${prefix}${issue.keys[0]}`;
    return new HttpError(400, `unknown field ${issue.keys.map((k) => `${prefix}${k}`).join(", ")}`, field);
  }
  const field = issue.path.join(".") || undefined;
  // Options are config keys: say what they accept in the config's own words.
  if (issue.path[0] === "options" && issue.path.length === 2) {
    const accepts = acceptsFor({ ...issue, path: issue.path.slice(1) } as typeof issue);
    return new HttpError(400, `${field} must be ${accepts}`, field);
  }
  return new HttpError(400, field ? `${field}: ${issue.message}` : issue.message, field);
}

/** Bodies larger than this are refused (413). */
export const MAX_BODY_BYTES = 1024 * 1024;

const tooLarge = () => new HttpError(413, `the request body is over ${MAX_BODY_BYTES} bytes`);

/**
 * 413 for a body that declares itself too large, before a byte of it is read. (Hono's bodyLimit
 * rebuilds the Request, which breaks on a body without Content-Length while Node's own Request
 * stays in place: every such POST, OPTIONS or DELETE answered 500.)
 */
export const declaredSize: MiddlewareHandler = async (c, next) => {
  if (Number(c.req.header("content-length") ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  return next();
};

/** The body as text, read up to the limit: a chunked body declares no size. */
async function bodyText(c: Context): Promise<string> {
  const stream = c.req.raw.body;
  if (!stream) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The body as JSON checked by `schema`; no body at all is `{}` (a POST that needs nothing). */
export async function jsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const raw = await bodyText(c);
  let data: unknown;
  try {
    data = raw.trim() === "" ? {} : JSON.parse(raw);
  } catch {
    throw new HttpError(400, "the request body must be JSON");
  }
  const result = schema.safeParse(data);
  if (!result.success) throw zodProblem(result.error);
  return result.data;
}

export function query<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) throw zodProblem(result.error);
  return result.data;
}
