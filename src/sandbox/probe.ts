import type { Readable } from "node:stream";
import { Writable } from "node:stream";
import type Docker from "dockerode";
import type { RuntimeFacts } from "../core/types.js";
import { forTerminal } from "../util/terminal.js";
import { FrameDemuxer } from "./demux.js";
import { deadlineLabel, type Owner, ownerLabels, RUN_LABEL } from "./owner.js";

/** How long the probe container may run; an image that takes longer tells the model less. */
export const PROBE_TIMEOUT_MS = 5000;
/** The most of the probe's output that is read: a dozen short lines are expected. */
const MAX_PROBE_BYTES = 16 * 1024;
/** Beyond its own time limit, how long the engine may take over the probe (create, start, inspect). */
const ENGINE_SLACK_MS = 5000;
/** The longest value of a fact the model is told. */
const MAX_FACT_CHARS = 80;

/** Tools whose presence on the PATH changes how a Dockerfile is written. */
const TOOLS = [
  "python3",
  "pip3",
  "node",
  "npm",
  "java",
  "go",
  "ruby",
  "gcc",
  "apt-get",
  "apk",
  "dnf",
  "yum",
  "microdnf",
];

/*
 * POSIX sh (busybox's too): one `key=value` line per fact. Nothing is installed, fetched or
 * written; a missing tool just prints nothing.
 */
const SCRIPT = [
  "o=$(sed -n 's/^PRETTY_NAME=//p' /etc/os-release 2>/dev/null)",
  '[ -n "$o" ] && echo "os=$o"',
  'command -v busybox >/dev/null 2>&1 && echo "busybox=$(busybox 2>&1 | head -n 1)"',
  `for t in ${TOOLS.join(" ")}; do command -v "$t" >/dev/null 2>&1 && echo "tool=$t"; done`,
  'if command -v python3 >/dev/null 2>&1; then echo "python3=$(python3 -V 2>&1)";',
  "  if python3 -m pip --version >/dev/null 2>&1; then echo pip=yes; else echo pip=no; fi; fi",
  'command -v node >/dev/null 2>&1 && echo "node=$(node -v 2>&1)"',
  'command -v go >/dev/null 2>&1 && echo "go=$(go version 2>&1)"',
  'command -v java >/dev/null 2>&1 && echo "java=$(java -version 2>&1 | head -n 1)"',
  'command -v ruby >/dev/null 2>&1 && echo "ruby=$(ruby -v 2>&1)"',
  // Only a probe that got here is believed: a cut one would say tools are missing.
  "echo end=1",
].join("\n");

export interface ProbeOptions {
  /** The run's id, labelled on the probe container so `azlon clean` and the sweep find it. */
  runId: string;
  owner: Owner;
  signal: AbortSignal;
  timeoutMs?: number;
}

/** Facts learnt per image ID in this process: a server or a batch probes an image once. */
const learnt = new Map<string, RuntimeFacts>();

/** The promise's value, or null once `ms` have passed: an engine that hangs must not hold the run. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fact as the model may read it: one line, no control characters or backticks, bounded. */
function clean(text: string): string {
  const line = forTerminal(text)
    .replace(/[`\s]+/g, " ")
    .trim();
  return line.length > MAX_FACT_CHARS ? `${line.slice(0, MAX_FACT_CHARS - 1)}…` : line;
}

/** The image's ID, or null when the engine does not have it (or cannot say). */
export async function imageIdOf(docker: Docker, image: string): Promise<string | null> {
  const info = await within(inspect(docker, image), ENGINE_SLACK_MS);
  return typeof info?.Id === "string" ? info.Id : null;
}

function inspect(docker: Docker, image: string): Promise<Docker.ImageInspectInfo | null> {
  return docker
    .getImage(image)
    .inspect()
    .catch(() => null);
}

/** What the image's config says: OS and architecture, its user, locale and *_VERSION variables. */
function fromConfig(info: Docker.ImageInspectInfo): RuntimeFacts {
  const env = new Map(
    (info.Config?.Env ?? []).map((e) => {
      const at = e.indexOf("=");
      return at < 0 ? [e, ""] : [e.slice(0, at), e.slice(at + 1)];
    }),
  );
  const user = clean(info.Config?.User ?? "");
  return {
    os: null,
    arch: info.Architecture ? clean(info.Architecture) : null,
    user: user === "" || user === "root" || user === "0" || user.startsWith("0:") ? null : user,
    locale: clean(env.get("LC_ALL") || env.get("LANG") || ""),
    probed: false,
    found: [],
    pip: null,
    versions: [...env]
      .filter(([key]) => /^[A-Z]+_VERSION$/.test(key) && !key.startsWith("PYTHON_PIP"))
      .slice(0, 6)
      .map(([key, value]) => clean(`${key}=${value}`)),
  };
}

/** Reads the probe's `key=value` lines into the facts; a probe that did not finish adds nothing. */
export function parseProbe(output: string, facts: RuntimeFacts): RuntimeFacts {
  if (!/^end=1$/m.test(output)) return facts;
  const values = new Map<string, string[]>();
  for (const line of output.split("\n").slice(0, 100)) {
    const at = line.indexOf("=");
    if (at <= 0) continue;
    const key = line.slice(0, at);
    values.set(key, [...(values.get(key) ?? []), clean(line.slice(at + 1).replace(/^"(.*)"$/, "$1"))]);
  }
  const one = (key: string) => values.get(key)?.[0] || null;
  const tools = (values.get("tool") ?? []).filter((t) => TOOLS.includes(t));
  return {
    ...facts,
    os: one("os") ?? one("busybox")?.replace(/ multi-call binary\.?$/, "") ?? null,
    probed: true,
    found: tools.map((name) => ({ name, version: one(name) })),
    pip: tools.includes("python3") ? one("pip") === "yes" : null,
  };
}

/**
 * What a base image is, for the prompt: its config through the engine's API, then one short
 * probe container (no network, tight limits, a few seconds, labelled with the run and removed).
 * An image the engine lacks is null; a probe that fails leaves what the config said. Never throws.
 */
export async function probeImage(
  docker: Docker,
  image: string,
  options: ProbeOptions,
): Promise<RuntimeFacts | null> {
  const info = await within(inspect(docker, image), ENGINE_SLACK_MS);
  if (!info) return null;
  const known = learnt.get(info.Id);
  if (known) return known;
  const facts = fromConfig(info);
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const output = await within(
    runProbe(docker, info.Id, { ...options, timeoutMs }).catch(() => null),
    timeoutMs + ENGINE_SLACK_MS,
  );
  const result = output === null ? facts : parseProbe(output, facts);
  // Only a finished probe is kept: one cut short (Ctrl-C, a slow engine) may do better next time.
  if (result.probed) learnt.set(info.Id, result);
  return result;
}

/** Runs the probe script in a container of the image; its output, or null when it could not run. */
async function runProbe(
  docker: Docker,
  imageId: string,
  options: ProbeOptions & { timeoutMs: number },
): Promise<string | null> {
  const { timeoutMs } = options;
  if (options.signal.aborted) return null;
  const container = await docker.createContainer({
    Image: imageId,
    Entrypoint: ["/bin/sh", "-c"],
    Cmd: [SCRIPT],
    Labels: {
      [RUN_LABEL]: options.runId,
      ...ownerLabels(options.owner),
      ...deadlineLabel(Date.now(), timeoutMs),
    },
    Tty: false,
    OpenStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: true,
    HostConfig: {
      AutoRemove: false,
      Memory: 256 * 2 ** 20,
      MemorySwap: 256 * 2 ** 20,
      NanoCpus: 1e9,
      PidsLimit: 64,
      NetworkMode: "none",
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      ReadonlyRootfs: true,
      LogConfig: { Type: "none", Config: {} },
    },
  });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (bytes < MAX_PROBE_BYTES) chunks.push(chunk.subarray(0, MAX_PROBE_BYTES - bytes));
        bytes += chunk.length;
        callback();
      },
    });
    const stream = (await container.attach({
      stream: true,
      stdout: true,
      stderr: false,
    })) as unknown as Readable;
    const demux = new FrameDemuxer(sink);
    const drained = new Promise<void>((resolve) => {
      demux.on("finish", resolve);
      demux.on("error", () => resolve());
      stream.on("error", () => resolve());
      stream.on("end", () => resolve());
    });
    stream.pipe(demux);
    await container.start();
    const stopped = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      onAbort = () => resolve();
      options.signal.addEventListener("abort", onAbort, { once: true });
    });
    await Promise.race([container.wait().then(() => drained), stopped]);
    stream.destroy();
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal.removeEventListener("abort", onAbort);
    await container.remove({ force: true, v: true }).catch(() => {});
  }
}
