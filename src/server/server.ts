import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import type { Config } from "../config/schema.js";
import { LockedError, UsageError } from "../core/errors.js";
import type { Engine } from "../engine/engine.js";
import { fileErrorCause } from "../util/file-errors.js";
import { acquireLock, describeHolder, type HeldLock, LockBusyError } from "../workspace/lock.js";
import { createApp } from "./app.js";
import { allowedHosts, isLoopback } from "./guard.js";
import { RunManager } from "./manager.js";
import { PromptStore, SERVER_DIR } from "./prompts.js";

export interface ServerOptions {
  engine: Engine;
  config: Config;
  cwd: string;
  outDir: string;
  host: string;
  /** 0: any free port (the URL says which). */
  port: number;
  concurrency: number;
  /** Runs that may wait for a slot (--max-queue); more are refused with 429. */
  maxQueue: number;
  token: string | null;
  cors: string | null;
  /** Host names answered besides the local ones (--allow-host). */
  allowHosts: string[];
  /** Runs may start from folders under this one (--projects-root); null: none may. */
  projectsRoot?: string | null;
  log: (line: string) => void;
  /** The --out folder's lock, when the caller took it first (lockOutDir); else taken here. */
  lock?: HeldLock;
}

export interface RunningServer {
  url: string;
  port: number;
  manager: RunManager;
  /** Stops listening, interrupts the runs in flight (they carry on at the next start), and waits. */
  close(): Promise<void>;
}

/** A server on any address but loopback must have a token: refuses to start without one. */
export function checkBind(host: string, token: string | null): void {
  if (!isLoopback(host) && !token) {
    throw new UsageError(
      `azlon serve on ${host} needs a token: anyone who can reach it could start runs on your API key`,
      "pass --token <secret> (or set AZLON_SERVE_TOKEN), or bind 127.0.0.1",
    );
  }
}

/**
 * Takes the lock of the --out folder: one server at a time starts its queued runs and carries
 * on what a previous one left there. A second server is refused, naming the live one.
 */
export function lockOutDir(outDir: string): HeldLock {
  const dir = join(outDir, SERVER_DIR);
  const path = join(dir, "serve.lock");
  try {
    mkdirSync(dir, { recursive: true });
    return acquireLock(path, { by: "azlon serve" });
  } catch (error) {
    if (!(error instanceof LockBusyError)) {
      throw new UsageError(`cannot lock ${path}: ${fileErrorCause(error)}`, "choose another --out");
    }
    const { holder } = error;
    throw new LockedError(
      `another azlon serve drives the runs in ${outDir}: ${describeHolder(holder)}`,
      error.state === "elsewhere"
        ? `stop it on ${holder.host}, or choose another --out; if that host is down, delete ${path}`
        : `stop it (kill ${holder.pid}) or use it (its URL is in its output), or choose another --out`,
    );
  }
}

/** Starts azlon's HTTP API on the engine: picks up the runs a previous server left, then listens. */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  checkBind(o.host, o.token);
  const lock = o.lock ?? lockOutDir(o.outDir);
  try {
    return await listen(o, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function listen(o: ServerOptions, lock: HeldLock): Promise<RunningServer> {
  const prompts = new PromptStore(o.outDir, o.config.prompts, o.cwd);
  // A bad saved template stops the start, not the first run.
  prompts.view();
  const manager = new RunManager({
    engine: o.engine,
    outDir: o.outDir,
    cwd: o.cwd,
    concurrency: o.concurrency,
    maxQueue: o.maxQueue,
    config: o.config,
    prompts,
    log: o.log,
  });
  const app = createApp({
    manager,
    config: o.config,
    prompts,
    outDir: o.outDir,
    token: o.token,
    cors: o.cors,
    hosts: allowedHosts(o.host, o.allowHosts),
    projectsRoot: o.projectsRoot ?? null,
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    // The engine's model client shares this process: Node's own Request/Response stay in place.
    const s = serve({ fetch: app.fetch, hostname: o.host, port: o.port, overrideGlobalObjects: false }, () =>
      resolve(s),
    );
    s.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new UsageError(
          `cannot listen on ${o.host}:${o.port}: ${error.code === "EADDRINUSE" ? "the port is in use" : error.message}`,
          error.code === "EADDRINUSE" ? "choose another --port (0: any free one)" : "check --host and --port",
        ),
      ),
    );
  });
  const port = (server.address() as AddressInfo).port;
  const shown = o.host.includes(":") ? `[${o.host}]` : o.host;
  manager.recover();
  return {
    url: `http://${shown}:${port}`,
    port,
    manager,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        await manager.shutdown();
        // Streams held open (SSE) would keep close() waiting.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        await closed;
      } finally {
        lock.release();
      }
    },
  };
}
