import type { Context, MiddlewareHandler } from "hono";
import { UsageError } from "../core/errors.js";
import { errorBody } from "./http.js";

/**
 * What keeps a web page the user visits from driving the server: a page may send requests to
 * 127.0.0.1 (a form, a no-cors fetch), and a name of its own pointed at 127.0.0.1 (DNS
 * rebinding) makes it same-origin with the server. The Host, the Origin and the body's type
 * each give such a request away, as Jupyter and Ollama check them.
 */

/** The names a loopback server always answers to, besides its bound address. */
const LOCAL_NAMES = ["localhost", "127.0.0.1", "[::1]"];

/** Loopback addresses need no token; anything else does. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** A Host header's name, lower case, without its port (and a final dot); null when it is not a host. */
export function hostName(header: string): string | null {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::\d{1,5})?$/i.exec(header.trim());
  const name = match?.[1]?.toLowerCase().replace(/\.$/, "");
  return name ? name : null;
}

/** An --allow-host value as hostName() gives it; a URL, a path or a port is refused. */
export function allowHostName(value: string): string {
  const name = /[:/]/.test(value.replace(/^\[.*\]$/, "")) ? null : hostName(value);
  if (!name) {
    throw new UsageError(
      `--allow-host takes a host name, as a browser's address bar shows it (got ${JSON.stringify(value)})`,
      "pass the name alone, without scheme, port or path: --allow-host devbox.lan",
    );
  }
  return name;
}

/**
 * The Host names a server answers to. On loopback: its address, localhost, 127.0.0.1, [::1]
 * and --allow-host. Beyond loopback (where a token is required) the names it is reached by are
 * the network's, not azlon's to know, and a page that rebinds a name to it still lacks the
 * token: any name passes, unless --allow-host lists them (then those and the local ones only).
 */
export function allowedHosts(bind: string, extra: string[]): Set<string> | null {
  if (!isLoopback(bind) && extra.length === 0) return null;
  const bound = bind.includes(":") ? `[${bind}]` : bind;
  return new Set([bound.toLowerCase(), ...LOCAL_NAMES, ...extra.map(allowHostName)]);
}

const shown = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);

/** 403 for a Host the server does not answer to (null: any). */
export function hostGuard(allowed: Set<string> | null): MiddlewareHandler {
  return async (c, next) => {
    if (!allowed) return next();
    const header = c.req.header("host") ?? "";
    const name = hostName(header);
    if (name && allowed.has(name)) return next();
    return c.json(
      errorBody(
        `this server answers to ${[...allowed].join(", ")}, not to the host ${shown(header)}: a web page ` +
          `whose name points at this machine could otherwise read and start your runs. If you reach it ` +
          `by that name yourself, start azlon serve with --allow-host ${name ?? "<name>"}`,
      ),
      403,
    );
  };
}

/** An origin in its browser form (scheme://host[:port], default port left out); null if none. */
export function originOf(text: string): string | null {
  try {
    const url = new URL(text);
    return /^https?:$/.test(url.protocol) ? url.origin : null;
  } catch {
    return null;
  }
}

/** The --cors value as an origin; a wildcard, a path or a non-http URL is refused. */
export function corsOrigin(value: string): string {
  const origin = originOf(value);
  if (!origin || value.replace(/\/$/, "").toLowerCase() !== origin.toLowerCase()) {
    throw new UsageError(
      `--cors takes one origin, as a browser sends it (got ${JSON.stringify(value)})`,
      "pass scheme, host and port only: --cors http://localhost:3000",
    );
  }
  return origin;
}

/** The origins of the server's own page as a browser reached it: the Host it was asked by. */
function ownOrigins(c: Context): string[] {
  const host = c.req.header("host") ?? "";
  return [originOf(`http://${host}`), originOf(`https://${host}`)].filter((o): o is string => !!o);
}

/**
 * 403 for a request a page of another origin sent (browsers say which in Origin). Callers that
 * send no Origin (curl, scripts, the page's own GETs) pass.
 */
export function originGuard(cors: string | null): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("origin");
    if (header === undefined) return next();
    const origin = originOf(header);
    if (origin && (origin === cors || ownOrigins(c).includes(origin))) return next();
    return c.json(
      errorBody(
        `a page of another origin (${shown(header)}) may not call this server: only its own page ` +
          `and the --cors origin${cors ? ` (${cors})` : ", none here,"} may`,
      ),
      403,
    );
  };
}

const READ_ONLY = new Set(["GET", "HEAD", "OPTIONS"]);

/** application/json, with no parameter but a UTF-8 charset. */
function isJson(type: string): boolean {
  const [media, ...params] = type.split(";").map((part) => part.trim().toLowerCase());
  return media === "application/json" && params.every((p) => p === "" || /^charset="?utf-?8"?$/.test(p));
}

const hasBody = (c: Context) =>
  c.req.header("transfer-encoding") !== undefined || Number(c.req.header("content-length") ?? 0) > 0;

/**
 * 415 for a body that is not JSON. An HTML form can POST anywhere without asking, but only as
 * text/plain or a form encoding; application/json from another origin needs the server's
 * consent first (a CORS preflight). A request with no body (curl -X POST .../cancel) needs no type.
 */
export const jsonOnly: MiddlewareHandler = async (c, next) => {
  if (READ_ONLY.has(c.req.method)) return next();
  const type = c.req.header("content-type");
  if (type === undefined ? !hasBody(c) : isJson(type)) return next();
  return c.json(
    errorBody(
      `the request body must be sent as Content-Type: application/json (got ${type === undefined ? "none" : shown(type)})`,
    ),
    415,
  );
};
