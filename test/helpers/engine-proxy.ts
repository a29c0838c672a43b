import { createServer, request, type Server } from "node:http";
import { join } from "node:path";
import { engineTarget } from "./engine.js";
import { closeServer } from "./http-server.js";
import { tempDir } from "./tmp.js";

/** A request to the engine, as the proxy sees it. */
export interface EngineRequest {
  method: string;
  /** The path without the query: "/containers/3f2e.../json". */
  path: string;
}

/**
 * A Docker engine that fails on cue: a unix-socket proxy in front of the real engine that
 * answers chosen requests with a 500 and passes every other one through. The CLI reaches it
 * through DOCKER_HOST, exactly as it would reach a real engine.
 */
export class FaultyEngine {
  private server: Server | null = null;
  /** Requests answered with a 500 instead of being passed on. */
  readonly failed: EngineRequest[] = [];
  socket = "";

  /** Return true to fail this request. */
  constructor(private readonly shouldFail: (request: EngineRequest) => boolean) {}

  get dockerHost(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    const upstream = engineTarget(process.env).target.options.socketPath;
    if (!upstream) throw new Error("FaultyEngine needs an engine on a unix socket");
    this.socket = join(tempDir(), "engine.sock");
    this.server = createServer((req, res) => {
      const seen = { method: req.method ?? "GET", path: (req.url ?? "").split("?")[0] ?? "" };
      if (this.shouldFail(seen)) {
        this.failed.push(seen);
        req.resume();
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "injected fault: the engine failed" }));
        return;
      }
      const forward = request(
        { socketPath: upstream, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          // An attach answers its headers long before any output: send them at once.
          res.flushHeaders();
          answer.pipe(res);
        },
      );
      forward.on("error", () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.socket, resolve));
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
    this.server = null;
  }
}
