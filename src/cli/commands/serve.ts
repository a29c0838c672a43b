import { realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { resolveConfig } from "../../config/load.js";
import { UsageError } from "../../core/errors.js";
import { Engine } from "../../engine/engine.js";
import { apiKeyFrom, redactorFor, runOptionsFrom } from "../../engine/options.js";
import { refuseSourceFromFile } from "../../engine/source-options.js";
import { forTerminal } from "../../util/terminal.js";
import type { CliContext, InterruptSignal } from "../io.js";
import { interruptExitCode } from "../io.js";

export interface ServeFlags {
  host?: string;
  port?: string;
  out?: string;
  concurrency?: string;
  maxQueue?: string;
  token?: string;
  cors?: string;
  allowHost?: string[];
  projectsRoot?: string;
  config?: string;
  trustConfig?: boolean;
}

/** --projects-root: an existing folder, as its real path. */
function projectsRootOf(given: string | undefined, cwd: string): string | null {
  if (given === undefined) return null;
  const dir = resolve(cwd, given);
  try {
    if (statSync(dir).isDirectory()) return realpathSync(dir);
  } catch {
    // said below
  }
  throw new UsageError(
    `--projects-root ${dir} is not a folder`,
    "give the folder that holds the projects runs may start from",
  );
}

function whole(value: string | undefined, fallback: number, flag: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max} (got ${value})`);
  }
  return n;
}

/** `azlon serve`: the HTTP API and the web page, on the engine `run` uses, until Ctrl-C. */
export async function serveCommand(flags: ServeFlags, ctx: CliContext): Promise<number> {
  const host = flags.host ?? "127.0.0.1";
  const port = whole(flags.port, 8787, "port", 0, 65535);
  const concurrency = whole(flags.concurrency, 2, "concurrency", 1, 64);
  const maxQueue = whole(flags.maxQueue, 100, "max-queue", 0, 100_000);
  const token = flags.token ?? (ctx.env.AZLON_SERVE_TOKEN || null);
  const { allowHostName, corsOrigin } = await import("../../server/guard.js");
  const allowHosts = (flags.allowHost ?? []).map(allowHostName);
  const cors = flags.cors === undefined ? null : corsOrigin(flags.cors);
  const { config, sources } = await resolveConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    flags: flags.out !== undefined ? { out: flags.out } : {},
    configPath: flags.config ?? null,
    trustConfig: !!flags.trustConfig,
  });
  // A server's runs start from what each request names (under --projects-root), never the config's.
  refuseSourceFromFile(config, sources);
  const projectsRoot = projectsRootOf(flags.projectsRoot, ctx.cwd);
  const outDir = resolve(ctx.cwd, config.out);
  // The server's own options are checked now, not at the first request.
  runOptionsFrom(config, ctx.cwd, outDir);
  const apiKey = apiKeyFrom(ctx.env);
  const redactor = redactorFor({ ...ctx.env, AZLON_SERVE_TOKEN: token ?? undefined }, apiKey, config.baseUrl);
  const { checkBind, lockOutDir, startServer } = await import("../../server/server.js");
  // Refused before the engine is reached: a clear message, whatever Docker's state.
  checkBind(host, token);
  // A second server on this --out is refused at once, naming the live one.
  const lock = lockOutDir(outDir);
  let engine: Engine;
  try {
    engine = await Engine.connect(ctx.env, apiKey, redactor);
    await engine.prepare(runOptionsFrom(config, ctx.cwd, outDir));
  } catch (error) {
    lock.release();
    throw error;
  }
  // A log line may quote a run's error or warning: shown as text, on a terminal or in CI.
  const log = (line: string) =>
    ctx.stderr.write(`azlon serve: ${forTerminal(redactor.redactMessage(line))}\n`);
  const server = await startServer({
    lock,
    engine,
    config,
    cwd: ctx.cwd,
    outDir,
    host,
    port,
    concurrency,
    maxQueue,
    token,
    cors,
    allowHosts,
    projectsRoot,
    log,
  });
  ctx.stdout.write(`azlon serve: listening on ${server.url}  (runs in ${outDir})\n`);
  if (token) ctx.stdout.write(`azlon serve: the page: ${server.url}/#token=<your token>\n`);
  ctx.stdout.write("azlon serve: Ctrl-C stops it; runs in flight carry on at the next start\n");
  let first: InterruptSignal | null = null;
  const signal = await new Promise<InterruptSignal>((resolveSignal) => {
    ctx.onInterrupt?.((s) => {
      // A closed output changes nothing for a server; a closed terminal stops it like Ctrl-C.
      if (s === "SIGPIPE") return;
      if (first === null) {
        first = s;
        resolveSignal(s);
      } else {
        // A second Ctrl-C: leave at once; the runs carry on at the next start all the same.
        ctx.exitNow?.(interruptExitCode(s));
      }
    });
  });
  ctx.stderr.write(
    `\nazlon serve: ${signal}: stopping the runs in flight (they carry on at the next start)\n`,
  );
  await server.close();
  return interruptExitCode(signal);
}
