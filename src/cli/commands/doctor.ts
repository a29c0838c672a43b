import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flagSource, resolveConfig, validateLayer } from "../../config/load.js";
import type { Config } from "../../config/schema.js";
import { trustNote } from "../../config/trust.js";
import { ExitCode, errorMessage, FatalError } from "../../core/errors.js";
import { DEFAULT_BASE_URL, redactorFor } from "../../engine/options.js";
import { loadTemplates, type Templates } from "../../prompts/templates.js";
import { resolveDockerTarget } from "../../sandbox/connection.js";
import { nameList } from "../../util/echo.js";
import { formatBytes, formatCount } from "../../util/format.js";
import type { Redactor } from "../../util/secrets.js";
import { forTerminal } from "../../util/terminal.js";
import { type CliContext, colorEnabled } from "../io.js";

interface Check {
  name: string;
  ok: boolean;
  /** Holds, but may not for every run: shown with its fix, not counted as a failure. */
  warn?: boolean;
  detail: string;
  fix?: string;
}

const ENDPOINT_TIMEOUT_MS = 10_000;
/** Used for the trial build when no baseImage is configured. */
export const DOCTOR_DEFAULT_IMAGE = "busybox:latest";

async function checkEndpoint(config: Config, apiKey: string): Promise<Check> {
  const { default: OpenAI } = await import("openai");
  const { mapApiError } = await import("../../model/api-errors.js");
  const { boundedFetch } = await import("../../model/transport.js");
  const { clientEndpoint } = await import("../../model/endpoint.js");
  const baseUrl = config.baseUrl ?? DEFAULT_BASE_URL;
  // The body is read under the same timeout as the headers: a server that stalls mid-reply
  // is an answer in time or none, never a doctor that hangs.
  const client = new OpenAI({
    apiKey,
    ...clientEndpoint(baseUrl),
    maxRetries: 0,
    timeout: ENDPOINT_TIMEOUT_MS,
    fetch: boundedFetch({ maxReplyBytes: () => config.maxReplyBytes, record: () => {} }),
  });
  try {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    if (ids.includes(config.model)) {
      return { name: "endpoint", ok: true, detail: `${baseUrl} answers; model "${config.model}" is listed` };
    }
    const shown = nameList(ids, 8);
    return {
      name: "endpoint",
      ok: false,
      detail: `${baseUrl} answers, but model "${config.model}" is not among the ${ids.length} it lists${ids.length ? ` (${shown})` : ""}`,
      fix: "choose one with --model, AZLON_MODEL or the config's model key",
    };
  } catch (error) {
    const mapped = mapApiError(error, { baseUrl, model: config.model, retries: 0 });
    if (mapped instanceof FatalError) {
      return {
        name: "endpoint",
        ok: false,
        detail: mapped.message,
        ...(mapped.hint ? { fix: mapped.hint } : {}),
      };
    }
    return { name: "endpoint", ok: false, detail: `${baseUrl}: ${errorMessage(error)}` };
  }
}

async function checkDocker(ctx: CliContext, config: Config, redactor: Redactor): Promise<Check[]> {
  const { connectDocker, DockerSandbox } = await import("../../sandbox/docker-sandbox.js");
  let connected: Awaited<ReturnType<typeof connectDocker>>;
  try {
    const target = resolveDockerTarget({ env: ctx.env, home: ctx.env.HOME ?? "/" });
    connected = await connectDocker(target);
    const { info } = connected;
    const builder = info.buildKit
      ? config.builder === "buildkit"
        ? "BuildKit for every Dockerfile (--builder buildkit: RUN steps keep only the time limit)"
        : config.builder === "classic"
          ? "the classic builder for every Dockerfile (--builder classic)"
          : "the classic builder (RUN steps held to --memory and --cpus), BuildKit for Dockerfiles that need it (RUN --mount, here-documents)"
      : info.name === "Podman"
        ? "Buildah, through the Docker API (RUN --mount included; RUN steps held to --memory and --cpus)"
        : "the classic builder (this engine has no BuildKit through its API)";
    const engine: Check = {
      name: "docker",
      ok: true,
      detail: `${info.name} ${connected.version} (API ${connected.apiVersion}) at ${target.address}; builds with ${builder}`,
    };
    const image = config.baseImage ?? DOCTOR_DEFAULT_IMAGE;
    const runId = `doctor-${Date.now().toString(36)}`;
    const dir = mkdtempSync(join(tmpdir(), "azlon-doctor-"));
    const tag = `azlon/${runId}`;
    const sandbox = new DockerSandbox(connected.docker, {
      runId,
      imageTag: tag,
      limits: {
        memoryBytes: 64 * 2 ** 20,
        cpus: 1,
        pids: 32,
        network: "none",
        runTimeoutMs: 30_000,
        buildTimeoutMs: 120_000,
      },
      maxModelBytes: 4096,
      maxLogBytes: 65536,
      redactor,
      builder: config.builder,
      buildKit: info.buildKit,
      engineName: info.name,
      hereDocuments: info.hereDocuments,
    });
    try {
      writeTrialContext(dir, image);
      const signal = new AbortController().signal;
      const build = await sandbox.build(join(dir, "context"), { path: join(dir, "build.log") }, signal);
      if (!build.ok) {
        const last = build.log.text.trim().split("\n").at(-1) ?? "";
        return [
          engine,
          {
            name: "sandbox",
            ok: false,
            detail: `a trial image FROM ${image} did not build: ${last}`,
            fix: config.baseImage
              ? "make sure the base image exists locally (docker images) or can be pulled"
              : "name an image this engine has with --base-image (or baseImage in the config)",
          },
        ];
      }
      const run = await sandbox.run({ path: join(dir, "output.log") }, signal);
      const ok = run.exitCode === 0 && run.output.text.includes("azlon-doctor-ok");
      return [
        engine,
        ok
          ? {
              name: "sandbox",
              ok: true,
              detail: `a trial image FROM ${image} built and ran with the limits (and was removed)`,
            }
          : {
              name: "sandbox",
              ok: false,
              detail: `the trial container did not run as expected (exit ${run.exitCode}): ${run.output.text.slice(0, 200)}`,
              fix: `check the engine's runtime with \`docker run --rm ${image} echo ok\``,
            },
      ];
    } finally {
      await sandbox.cleanup();
      await connected.docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  } catch (error) {
    if (error instanceof FatalError) {
      return [
        { name: "docker", ok: false, detail: error.message, ...(error.hint ? { fix: error.hint } : {}) },
      ];
    }
    return [{ name: "docker", ok: false, detail: errorMessage(error) }];
  }
}

function writeTrialContext(dir: string, image: string): void {
  const context = join(dir, "context");
  rmSync(context, { recursive: true, force: true });
  mkdirSync(context, { recursive: true });
  writeFileSync(join(context, "Dockerfile"), `FROM ${image}\nCMD ["echo", "azlon-doctor-ok"]\n`);
}

/** The most of a /props reply read (llama-server's holds the chat template). */
const PROPS_MAX_BYTES = 4 * 1024 * 1024;

/** Tokens, roughly, in English text or code: bytes / 4. */
const estimateTokens = (bytes: number) => Math.ceil(bytes / 4);

/**
 * llama.cpp's llama-server says at /props how many tokens one request may hold (its `-c`,
 * shared among its `-np` slots). The judge's instructions and a reply of up to maxReplyTokens
 * must fit there, with the project on top. Other servers have no /props: no check then.
 */
async function checkContext(config: Config, apiKey: string, templates: Templates): Promise<Check[]> {
  const baseUrl = config.baseUrl ?? DEFAULT_BASE_URL;
  let nCtx: unknown;
  let nPredict: unknown;
  try {
    // Read whole under the timeout and the size bound, as the endpoint check reads its reply.
    const { boundedFetch } = await import("../../model/transport.js");
    const { serverUrl } = await import("../../model/endpoint.js");
    const read = boundedFetch({ maxReplyBytes: () => PROPS_MAX_BYTES, record: () => {} });
    const response = await read(serverUrl(baseUrl, "/props"), {
      headers: { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(ENDPOINT_TIMEOUT_MS),
    });
    if (!response.ok) return [];
    const settings = (
      (await response.json()) as {
        default_generation_settings?: {
          n_ctx?: unknown;
          n_predict?: unknown;
          params?: { n_predict?: unknown };
        };
      }
    ).default_generation_settings;
    nCtx = settings?.n_ctx;
    // Its -n: where it is, depends on the server's version.
    nPredict = settings?.params?.n_predict ?? settings?.n_predict;
  } catch {
    return [];
  }
  if (typeof nCtx !== "number" || !Number.isInteger(nCtx) || nCtx <= 0) return [];
  const cap = replyCapCheck(nPredict, config);
  return [contextCheck(nCtx, config, templates), ...(cap ? [cap] : [])];
}

/**
 * llama-server's -n caps every reply, whatever a request asks for: below azlon's own cap, a
 * reply the server cuts ends the run, where one cut at azlon's cap is asked for again.
 */
function replyCapCheck(nPredict: unknown, config: Config): Check | null {
  if (typeof nPredict !== "number" || !Number.isInteger(nPredict) || nPredict <= 0) return null;
  const ours = config.maxReplyTokens;
  if (ours !== null && nPredict >= ours) return null;
  return {
    name: "reply cap",
    ok: true,
    warn: true,
    detail: `llama-server cuts every reply at ${formatCount(nPredict)} tokens (its -n), ${ours === null ? "and azlon sends no cap (maxReplyTokens: null)" : `below azlon's cap of ${formatCount(ours)} (maxReplyTokens)`}: a longer reply is cut by the server and ends the run, where one cut at azlon's cap is asked for again`,
    fix: `start llama-server with -n ${ours ?? -1} (or -n -1, no cap of its own), or set the reply cap to ${nPredict} (maxReplyTokens in the config, or run --max-reply-tokens ${nPredict})`,
  };
}

/** The power of two at or above `n`. */
const powerAbove = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** The shortest useful judge reply, in tokens: a verdict with a small fix. */
const SHORT_REPLY_TOKENS = 1024;

/**
 * What a context of `nCtx` tokens a request leaves. A request holds the judge's instructions,
 * the program's output (up to maxOutputBytes), the project and the reply (up to maxReplyTokens).
 * Failed: not even the instructions and a short reply fit. Warned: a reply up to the cap, or
 * the largest output shown, would leave no room (a reply the server cuts ends the run, where
 * one cut at azlon's cap is asked for again).
 */
function contextCheck(nCtx: number, config: Config, templates: Templates): Check {
  const instructions = estimateTokens(
    Buffer.byteLength(templates.validateSystem.text) + Buffer.byteLength(templates.validateUser.text),
  );
  const capped = config.maxReplyTokens !== null;
  const reply = config.maxReplyTokens ?? 0;
  const output = estimateTokens(config.maxOutputBytes);
  const holds = `llama-server holds ${formatCount(nCtx)} tokens a request`;
  const about = (n: number) => `about ${formatCount(n)}`;
  const larger = `start llama-server with -c ${powerAbove(instructions + reply + output + 16_384)} and one slot (-np 1; its -c is shared by its slots)`;
  if (nCtx < instructions + SHORT_REPLY_TOKENS) {
    return {
      name: "context",
      ok: false,
      detail: `${holds}: too few for the judge's instructions (${about(instructions)}) and a short reply`,
      fix: larger,
    };
  }
  if (!capped || nCtx <= instructions + reply) {
    // A cap that leaves half of what remains after the instructions.
    const cap = 2 ** Math.floor(Math.log2((nCtx - instructions) / 2));
    return {
      name: "context",
      ok: true,
      warn: true,
      detail: `${holds}: after the judge's instructions (${about(instructions)}) a reply has at most ${about(nCtx - instructions)}, ${capped ? `less than azlon's cap of ${formatCount(reply)} (maxReplyTokens)` : "and replies have no cap (maxReplyTokens: null)"}; a longer reply is cut by the server and ends the run, where one cut at azlon's cap is asked for again`,
      fix: `${larger}, or set the reply cap to ${cap} (maxReplyTokens in the config, or run --max-reply-tokens ${cap})`,
    };
  }
  const room = nCtx - instructions - reply - output;
  if (room <= 0) {
    return {
      name: "context",
      ok: true,
      warn: true,
      detail: `${holds}: the judge's instructions (${about(instructions)}) and a reply of up to ${formatCount(reply)} (maxReplyTokens) leave ${formatCount(nCtx - instructions - reply)} for the project and the program's output, which the judge is shown up to maxOutputBytes (${about(output)})`,
      fix: `${larger}, or lower maxOutputBytes or maxReplyTokens in the config`,
    };
  }
  return {
    name: "context",
    ok: true,
    detail: `${holds}: after the judge's instructions (${about(instructions)}), the program's output (up to ${about(output)}) and a reply of up to ${formatCount(reply)}, ${about(room)} are left for the project (about ${formatBytes(room * 4)})`,
  };
}

/** `azlon doctor`: one line per check, with the fix for each failure; exit 0 when all hold. */
export async function doctorCommand(
  flags: { config?: string; trustConfig?: boolean; model?: string; baseUrl?: string; baseImage?: string },
  ctx: CliContext,
): Promise<number> {
  // A bad flag is a usage error (exit 2), not a failed check: the config file is checked below.
  const given = { model: flags.model, baseUrl: flags.baseUrl, baseImage: flags.baseImage };
  validateLayer(
    Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
    flagSource("doctor"),
  );
  const checks: Check[] = [];
  let config: Config | null = null;
  // The defaults until the config's own templates load.
  let templates: Templates | null = null;
  try {
    const resolved = await resolveConfig({
      cwd: ctx.cwd,
      env: ctx.env,
      flags: given,
      configPath: flags.config ?? null,
      trustConfig: !!flags.trustConfig,
      source: flagSource("doctor"),
    });
    config = resolved.config;
    templates = loadTemplates(config.prompts, ctx.cwd);
    const files = [
      ...(resolved.configPath ? [`${resolved.configPath}${trustNote(resolved.trusted)}`] : []),
      ...(resolved.userConfigPath ? [`your ${resolved.userConfigPath}`] : []),
    ];
    checks.push({
      name: "config",
      ok: true,
      detail: files.length
        ? `${files.join(" and ")} ${files.length > 1 ? "are" : "is"} valid`
        : "no config file found; defaults in use",
    });
  } catch (error) {
    checks.push({
      name: "config",
      ok: false,
      detail: errorMessage(error),
      ...(error instanceof FatalError && error.hint ? { fix: error.hint } : {}),
    });
  }
  const apiKey = ctx.env.OPENAI_API_KEY || ctx.env.OPENAI_KEY || null;
  const redactor = redactorFor(ctx.env, apiKey, config?.baseUrl ?? flags.baseUrl ?? null);
  checks.push(
    apiKey
      ? {
          name: "api key",
          ok: true,
          detail: `${ctx.env.OPENAI_API_KEY ? "OPENAI_API_KEY" : "OPENAI_KEY"} is set`,
        }
      : {
          name: "api key",
          ok: false,
          detail: "OPENAI_API_KEY is not set",
          fix: "export OPENAI_API_KEY=... (any value for a local server that needs none)",
        },
  );
  const effective = (config ?? (await import("../../config/schema.js")).DEFAULTS) as Config;
  if (!config) {
    // Which endpoint the key would go to is the config's to say: none is asked on a guess.
    checks.push({ name: "endpoint", ok: false, detail: "not checked: the config above is not valid" });
  } else if (apiKey) {
    const endpoint = await checkEndpoint(effective, apiKey);
    checks.push(endpoint);
    if (endpoint.ok) checks.push(...(await checkContext(effective, apiKey, templates ?? loadTemplates())));
  } else
    checks.push({
      name: "endpoint",
      ok: false,
      detail: "not checked: no API key",
      fix: "set OPENAI_API_KEY first",
    });
  checks.push(...(await checkDocker(ctx, effective, redactor)));

  const color = colorEnabled(ctx);
  const green = (s: string) => (color ? `\u001b[32m${s}\u001b[39m` : s);
  const red = (s: string) => (color ? `\u001b[31m${s}\u001b[39m` : s);
  const yellow = (s: string) => (color ? `\u001b[33m${s}\u001b[39m` : s);
  // Details quote the endpoint (its errors, its model names) and the engine: shown, not obeyed.
  const shown = (text: string) => forTerminal(redactor.redactMessage(text));
  for (const check of checks) {
    const mark = !check.ok ? red("✖") : check.warn ? yellow("!") : green("✔");
    ctx.stdout.write(`${mark} ${check.name.padEnd(9)} ${shown(check.detail)}\n`);
    if ((!check.ok || check.warn) && check.fix) {
      ctx.stdout.write(`  ${"".padEnd(9)} fix: ${shown(check.fix)}\n`);
    }
  }
  const failed = checks.filter((c) => !c.ok).length;
  ctx.stdout.write(failed ? `\n${failed} check${failed === 1 ? "" : "s"} failed\n` : "\nall checks passed\n");
  return failed ? ExitCode.environment : ExitCode.passed;
}
