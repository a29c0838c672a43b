import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { ROOT } from "./cli.js";
import { closeServer, listenLoopback } from "./http-server.js";

/** One request the scripted API received. */
export interface ApiRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

type Handler = (req: ApiRequest) => { status?: number; json?: unknown; text?: string; events?: string[] };

const TYPES: Record<string, string> = { js: "text/javascript", css: "text/css", html: "text/html" };

/**
 * A scripted stand-in for `azlon serve`'s API (the contract in SERVE-API terms), serving the real
 * page from src/web, so the page's own logic is tested in a browser without the engine.
 */
export class FakeServe {
  readonly requests: ApiRequest[] = [];
  readonly routes = new Map<string, Handler>();
  private server: Server | null = null;
  url = "";

  on(methodAndPath: string, handler: Handler | ReturnType<Handler>): this {
    this.routes.set(methodAndPath, typeof handler === "function" ? handler : () => handler);
    return this;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.url = `http://127.0.0.1:${await listenLoopback(this.server)}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    if (path === "/" || path.startsWith("/assets/")) {
      const name = path === "/" ? "index.html" : path.slice("/assets/".length);
      const type = TYPES[name.split(".").pop() ?? ""] ?? "text/plain";
      res.writeHead(200, { "content-type": `${type}; charset=utf-8` });
      res.end(readFileSync(join(ROOT, "src/web", name)));
      return;
    }
    const text = Buffer.concat(chunks).toString("utf8");
    const request: ApiRequest = {
      method: req.method ?? "GET",
      path: `${path}${url.search}`,
      authorization: req.headers.authorization,
      body: text ? JSON.parse(text) : null,
    };
    this.requests.push(request);
    const handler = this.routes.get(`${request.method} ${path}`);
    if (!handler) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no route ${request.method} ${path}` } }));
      return;
    }
    const answer = handler(request);
    if (answer.events) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      answer.events.forEach((line, i) => {
        const type = (JSON.parse(line) as { type: string }).type;
        res.write(`id: ${i + 1}\nevent: ${type}\ndata: ${line}\n\n`);
      });
      res.end('event: end\ndata: {"status":"passed"}\n\n');
      return;
    }
    res.writeHead(answer.status ?? 200, {
      "content-type": answer.text !== undefined ? "text/plain; charset=utf-8" : "application/json",
    });
    res.end(answer.text ?? JSON.stringify(answer.json ?? {}));
  }
}
