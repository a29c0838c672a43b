import { createServer, type Server } from "node:http";
import { closeServer, listenLoopback } from "./http-server.js";

/**
 * A loopback stand-in for the Docker engine that answers only what `azlon run` asks before
 * and after a model call: ping, version, and the cleanup's listings (all empty). Anything
 * else (a build, a container) is a 500 naming the request, so a test that reaches the
 * engine for real fails loudly. It lets the model-fault tests, which never build, run on a
 * machine without Docker.
 */
export class FakeDocker {
  private server: Server | null = null;
  /** Requests that were not part of the small set above. */
  readonly unexpected: string[] = [];
  /** The value for DOCKER_HOST. */
  host = "";

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? "").split("?")[0]?.replace(/^\/v1\.\d+/, "") ?? "";
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (path === "/_ping") {
        res.writeHead(200, { "content-type": "text/plain", "api-version": "1.41" });
        res.end("OK");
      } else if (path === "/version") {
        json(200, { Version: "20.10.0-fake", ApiVersion: "1.41", MinAPIVersion: "1.12" });
      } else if (path === "/containers/json" || path === "/images/json") {
        json(200, []);
      } else if (path === "/volumes") {
        json(200, { Volumes: [], Warnings: null });
      } else if (/^\/images\/.+\/json$/.test(path)) {
        json(404, { message: "No such image" });
      } else {
        this.unexpected.push(`${req.method} ${path}`);
        json(500, { message: `fake engine: ${req.method} ${path} is not supported` });
      }
    });
    const port = await listenLoopback(this.server);
    this.host = `tcp://127.0.0.1:${port}`;
    return this.host;
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
    this.server = null;
  }
}
