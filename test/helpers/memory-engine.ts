import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extract } from "tar-stream";
import { closeServer, listenLoopback } from "./http-server.js";

/** A container the engine holds, as a test sees it. */
export interface MemoryContainer {
  id: string;
  labels: Record<string, string>;
  state: "created" | "running" | "exited";
  exitCode: number;
  /** Open attach streams and wait requests, answered when the program ends. */
  attached: ServerResponse[];
  waiting: ServerResponse[];
}

/**
 * A loopback Docker engine that keeps its images and containers in memory: a build succeeds
 * at once, and a started program prints "started" and runs until it is killed or removed.
 * It speaks the engine's HTTP API (the subset a run uses) to the real dockerode, so azlon's
 * own sandbox code runs against it as against a real engine, in the fast tier. A request
 * outside that subset is a 500 naming it, listed in `unexpected`.
 */
export class MemoryEngine {
  private server: Server | null = null;
  readonly containers = new Map<string, MemoryContainer>();
  readonly images = new Map<string, { id: string; tags: string[]; labels: Record<string, string> }>();
  /** Every DELETE of a container, in order. */
  readonly removed: Array<{ id: string; force: boolean }> = [];
  readonly unexpected: string[] = [];
  /** Errors the next builds answer with, one per build, in order (then builds succeed). */
  readonly failBuilds: string[] = [];
  /** How many builds were asked for. */
  builds = 0;
  /** Called when a program starts in a container. */
  onStart: (container: MemoryContainer) => void = () => {};
  /** The value for DOCKER_HOST. */
  host = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: Error) => {
        this.unexpected.push(`${req.method} ${req.url}: ${error.message}`);
        if (!res.headersSent) json(res, 500, { message: error.message });
      });
    });
    this.host = `tcp://127.0.0.1:${await listenLoopback(this.server)}`;
  }

  async stop(): Promise<void> {
    for (const c of this.containers.values()) this.end(c, 137);
    await closeServer(this.server);
    this.server = null;
  }

  /** Adds a container as another run would have made it (not started). */
  seed(labels: Record<string, string>): MemoryContainer {
    const container: MemoryContainer = {
      id: randomBytes(32).toString("hex"),
      labels,
      state: "created",
      exitCode: 0,
      attached: [],
      waiting: [],
    };
    this.containers.set(container.id, container);
    return container;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://engine");
    const path = url.pathname.replace(/^\/v1\.\d+/, "");
    const method = req.method ?? "GET";
    const body = await readBody(req);
    const found = /^\/containers\/([0-9a-f]+)(?:\/(attach|start|wait|kill|json))?$/.exec(path);
    const container = found ? this.containers.get(found[1] as string) : undefined;
    const action = found?.[2];

    if (path === "/_ping") {
      res.writeHead(200, { "content-type": "text/plain", "api-version": "1.41" });
      res.end("OK");
    } else if (path === "/version") {
      json(res, 200, { Version: "20.10.0-memory", ApiVersion: "1.41", MinAPIVersion: "1.12" });
    } else if (method === "GET" && path === "/containers/json") {
      const wanted = labelFilter(url);
      json(
        res,
        200,
        [...this.containers.values()]
          .filter((c) => wanted(c.labels))
          .map((c) => ({ Id: c.id, Labels: c.labels, State: c.state, Created: 0, Names: [] })),
      );
    } else if (method === "POST" && path === "/containers/create") {
      const spec = JSON.parse(body.toString("utf8") || "{}") as { Labels?: Record<string, string> };
      json(res, 201, { Id: this.seed(spec.Labels ?? {}).id, Warnings: [] });
    } else if (found && !container) {
      json(res, 404, { message: `No such container: ${found[1]}` });
    } else if (container && method === "DELETE" && !action) {
      const force = url.searchParams.get("force") === "true";
      if (container.state === "running" && !force) {
        json(res, 409, { message: "You cannot remove a running container. Stop it first" });
        return;
      }
      this.end(container, 137);
      this.containers.delete(container.id);
      this.removed.push({ id: container.id, force });
      res.writeHead(204).end();
    } else if (container && action === "attach") {
      res.writeHead(200, { "content-type": "application/vnd.docker.raw-stream" });
      res.flushHeaders();
      container.attached.push(res);
    } else if (container && action === "start") {
      container.state = "running";
      res.writeHead(204).end();
      for (const stream of container.attached) stream.write(frame("started\n"));
      this.onStart(container);
    } else if (container && action === "wait") {
      if (container.state === "exited") json(res, 200, { StatusCode: container.exitCode });
      else container.waiting.push(res);
    } else if (container && action === "kill") {
      this.end(container, 137);
      res.writeHead(204).end();
    } else if (container && action === "json") {
      json(res, 200, {
        Id: container.id,
        State: {
          Status: container.state,
          Running: container.state === "running",
          ExitCode: container.exitCode,
          OOMKilled: false,
        },
        Config: { Labels: container.labels },
      });
    } else if (method === "POST" && path === "/build") {
      this.builds++;
      const failure = this.failBuilds.shift();
      if (failure !== undefined) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(`${JSON.stringify({ errorDetail: { message: failure }, error: failure })}\n`);
        return;
      }
      const tag = url.searchParams.get("t") ?? "";
      const id = `sha256:${randomBytes(32).toString("hex")}`;
      // As the engine: the Dockerfile's LABELs, then the labels option (the last step); the
      // tag moves to the new image.
      const labels = { ...dockerfileLabels(await dockerfileOf(body)) };
      Object.assign(labels, JSON.parse(url.searchParams.get("labels") ?? "{}"));
      for (const image of this.images.values()) image.tags = image.tags.filter((t) => t !== tag);
      this.images.set(id, { id, tags: [tag], labels });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        `${JSON.stringify({ stream: "Step 1/1 : FROM busybox\n" })}\n${JSON.stringify({ aux: { ID: id } })}\n`,
      );
    } else if (method === "GET" && path === "/images/json") {
      json(res, 200, []);
    } else if (method === "GET" && path === "/volumes") {
      json(res, 200, { Volumes: [], Warnings: null });
    } else if (method === "GET" && path.startsWith("/images/") && path.endsWith("/json")) {
      const name = decodeURIComponent(path.slice("/images/".length, -"/json".length));
      const image = [...this.images.values()].find((i) => i.id === name || i.tags.includes(name));
      if (image) json(res, 200, { Id: image.id, RepoTags: image.tags, Config: { Labels: image.labels } });
      else json(res, 404, { message: `No such image: ${name}` });
    } else {
      this.unexpected.push(`${method} ${path}`);
      json(res, 500, { message: `memory engine: ${method} ${path} is not supported` });
    }
  }

  /** The program ends: its output stream closes and every wait is answered. */
  private end(container: MemoryContainer, exitCode: number): void {
    if (container.state === "running") {
      container.state = "exited";
      container.exitCode = exitCode;
    }
    for (const stream of container.attached.splice(0)) stream.end();
    for (const waiter of container.waiting.splice(0)) json(waiter, 200, { StatusCode: container.exitCode });
  }
}

/** The Dockerfile in a build context's tar, or "" when it has none. */
async function dockerfileOf(context: Buffer): Promise<string> {
  const reader = extract();
  let found = "";
  const done = new Promise<void>((resolve, reject) => {
    reader.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on("end", () => {
        if (header.name === "Dockerfile") found = Buffer.concat(chunks).toString("utf8");
        next();
      });
    });
    reader.on("finish", resolve);
    reader.on("error", reject);
  });
  reader.end(context);
  await done;
  return found;
}

/** The labels of a Dockerfile's LABEL lines written as azlon writes them ("key"="value" pairs). */
function dockerfileLabels(dockerfile: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const line of dockerfile.split("\n")) {
    if (!/^LABEL\s/i.test(line)) continue;
    for (const m of line.matchAll(/("(?:[^"\\]|\\.)*")=("(?:[^"\\]|\\.)*")/g)) {
      labels[JSON.parse(m[1] as string)] = JSON.parse(m[2] as string);
    }
  }
  return labels;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** One stdout frame of the engine's multiplexed stream. */
function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** The engine's `label` filter: every entry, "key" or "key=value", must match. */
function labelFilter(url: URL): (labels: Record<string, string>) => boolean {
  const filters = JSON.parse(url.searchParams.get("filters") ?? "{}") as { label?: string[] };
  const wanted = (filters.label ?? []).map((entry) => {
    const at = entry.indexOf("=");
    return at < 0 ? { key: entry, value: null } : { key: entry.slice(0, at), value: entry.slice(at + 1) };
  });
  return (labels) =>
    wanted.every(({ key, value }) => key in labels && (value === null || labels[key] === value));
}
