import type { ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { type CliResult, spawnCli } from "./cli.js";

/** A spawned `azlon serve`, once it has printed its URL. */
export interface Served {
  url: string;
  child: ChildProcess;
  done: Promise<CliResult>;
  /** fetch against the server, with the token when given. */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

/** Spawns the built CLI's `serve --port 0` and waits for the URL it prints. */
export async function startServe(
  args: string[],
  options: { cwd: string; env: Record<string, string>; token?: string },
): Promise<Served> {
  let seen = "";
  const { child, done } = spawnCli(["serve", "--port", "0", ...args], options);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${seen}`)), 20_000);
    child.stdout?.on("data", (d: Buffer) => {
      seen += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    done.then((r) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${r.code}: ${r.stderr}`));
    });
  });
  const api = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (options.token) headers.set("authorization", `Bearer ${options.token}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    return fetch(`${url}${path}`, { ...init, headers, body });
  };
  return { url, child, done, api };
}

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/**
 * Reads server-sent events until `end` (or until `stopAfter` messages, then drops the
 * connection, as a flaky network would).
 */
export async function readSse(
  url: string,
  headers: Record<string, string> = {},
  stopAfter = Number.POSITIVE_INFINITY,
): Promise<SseMessage[]> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
  const messages: SseMessage[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = response.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return messages;
    buffer += decoder.decode(value, { stream: true });
    let at = buffer.indexOf("\n\n");
    while (at >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      at = buffer.indexOf("\n\n");
      const message: SseMessage = { id: null, event: "message", data: "" };
      let any = false;
      for (const line of block.split("\n")) {
        const [field, ...rest] = line.split(":");
        const value = rest.join(":").replace(/^ /, "");
        if (field === "id") message.id = value;
        else if (field === "event") message.event = value;
        else if (field === "data") message.data += value;
        else continue;
        any = true;
      }
      if (!any) continue;
      messages.push(message);
      if (message.event === "end") return messages;
      if (messages.length >= stopAfter) {
        controller.abort();
        return messages;
      }
    }
  }
}

/** An answer to rawRequest: status, headers (lower-case names) and body as text. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A chunked body as HTTP/1.1 frames it. */
function unchunk(body: string): string {
  let out = "";
  let rest = body;
  for (;;) {
    const at = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, at), 16);
    if (!size) return out;
    out += rest.slice(at + 2, at + 2 + size);
    rest = rest.slice(at + 2 + size + 2);
  }
}

/**
 * One request written to the socket as given: fetch sets Host itself and sends Content-Length: 0
 * on a bare POST, where a browser's rebound page sends its own Host and curl sends no length at
 * all. `host: null` leaves Host out; `chunked` sends the body without a length. A stream is
 * read for 10 s at most.
 */
export function rawRequest(
  url: string,
  request: {
    method?: string;
    path: string;
    headers?: Record<string, string | null>;
    body?: string;
    chunked?: boolean;
  },
): Promise<RawAnswer> {
  const { hostname, port, host } = new URL(url);
  const headers: Record<string, string | null> = { host, ...request.headers, connection: "close" };
  const body = request.body ?? "";
  if (request.chunked) headers["transfer-encoding"] = "chunked";
  else if (request.body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  const head = Object.entries(headers)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  const framed = request.chunked
    ? `${body ? `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n` : ""}0\r\n\r\n`
    : body;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname.replace(/^\[|\]$/g, ""), () => {
      socket.write(`${request.method ?? "GET"} ${request.path} HTTP/1.1\r\n${head}\r\n${framed}`);
    });
    const chunks: Buffer[] = [];
    // A stream that never ends (the events of a live run) is cut, and what came is the answer.
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const [status = "", ...lines] = text.slice(0, split).split("\r\n");
      const answer: RawAnswer = { status: Number(status.split(" ")[1]), headers: {}, body: "" };
      for (const line of lines) {
        const colon = line.indexOf(":");
        answer.headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const raw = text.slice(split + 4);
      answer.body = answer.headers["transfer-encoding"] === "chunked" ? unchunk(raw) : raw;
      resolve(answer);
    });
  });
}
