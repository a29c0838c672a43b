import type { ChildProcess } from "node:child_process";
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
