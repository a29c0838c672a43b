import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DockerOptions } from "dockerode";
import { DockerUnavailableError } from "../core/errors.js";

/** Where the Docker engine is, as the docker CLI would find it, and how it was found. */
export interface DockerTarget {
  options: DockerOptions;
  /** "unix:///var/run/docker.sock", "tcp://host:2376 (TLS)", ... */
  address: string;
  /** "DOCKER_HOST", `context "colima"`, or "default socket". */
  source: string;
}

export interface ResolveInput {
  env: Record<string, string | undefined>;
  home: string;
  exists?: (path: string) => boolean;
  readFile?: (path: string) => string;
}

/** Sockets tried when neither DOCKER_HOST nor a context names one, most specific first. */
export function fallbackSockets(home: string): string[] {
  return [
    join(home, ".docker/run/docker.sock"), // Docker Desktop (macOS, Linux)
    join(home, ".colima/default/docker.sock"),
    join(home, ".orbstack/run/docker.sock"),
    join(home, ".rd/docker.sock"), // Rancher Desktop
    "/var/run/docker.sock",
  ];
}

function tlsMaterial(dir: string, read: (p: string) => string): Pick<DockerOptions, "ca" | "cert" | "key"> {
  const file = (name: string) => {
    try {
      return read(join(dir, name));
    } catch {
      throw new DockerUnavailableError(
        `TLS is on for Docker but ${join(dir, name)} cannot be read`,
        "set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem",
      );
    }
  };
  return { ca: file("ca.pem"), cert: file("cert.pem"), key: file("key.pem") };
}

/** Parses a docker host URL (DOCKER_HOST or a context's endpoint). */
export function parseDockerHost(
  host: string,
  tls: { verify: boolean; certDir: string | null },
  read: (p: string) => string,
  sshAgent: string | undefined = undefined,
): { options: DockerOptions; address: string } {
  if (host.startsWith("unix://")) {
    const socketPath = host.slice("unix://".length);
    return { options: { socketPath }, address: host };
  }
  if (host.startsWith("npipe://")) {
    const socketPath = host.slice("npipe://".length).replace(/\//g, "\\");
    return { options: { socketPath }, address: host };
  }
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new DockerUnavailableError(
      `DOCKER_HOST "${host}" is not a valid address`,
      "use unix:///path/docker.sock, tcp://host:2376, or ssh://user@host",
    );
  }
  if (url.protocol === "tcp:" || url.protocol === "http:" || url.protocol === "https:") {
    const secure = tls.verify || url.protocol === "https:";
    const port = url.port ? Number(url.port) : secure ? 2376 : 2375;
    const options: DockerOptions = { host: url.hostname, port, protocol: secure ? "https" : "http" };
    if (secure && tls.certDir) Object.assign(options, tlsMaterial(tls.certDir, read));
    return { options, address: `tcp://${url.hostname}:${port}${secure ? " (TLS)" : ""}` };
  }
  if (url.protocol === "ssh:") {
    const options: DockerOptions = {
      protocol: "ssh",
      host: url.hostname,
      port: url.port ? Number(url.port) : 22,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      // The ssh agent holds the keys, as with the docker CLI.
      sshOptions: { agent: sshAgent },
    };
    return { options, address: `ssh://${url.username ? `${url.username}@` : ""}${url.hostname}` };
  }
  throw new DockerUnavailableError(
    `DOCKER_HOST "${host}" uses an unsupported scheme (${url.protocol})`,
    "use unix://, tcp:// or ssh://",
  );
}

/** The current context's docker endpoint, or null for the default context. */
function contextEndpoint(
  configDir: string,
  name: string,
  exists: (p: string) => boolean,
  read: (p: string) => string,
): { host: string; tlsDir: string | null; skipVerify: boolean } {
  const hash = createHash("sha256").update(name).digest("hex");
  const meta = join(configDir, "contexts", "meta", hash, "meta.json");
  if (!exists(meta)) {
    throw new DockerUnavailableError(
      `the Docker context "${name}" is selected but ${meta} does not exist`,
      "pick an existing context with `docker context use NAME`, or set DOCKER_HOST",
    );
  }
  let parsed: { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
  try {
    parsed = JSON.parse(read(meta));
  } catch {
    throw new DockerUnavailableError(
      `the Docker context file ${meta} is not valid JSON`,
      "repair or remove it",
    );
  }
  const endpoint = parsed.Endpoints?.docker;
  if (!endpoint?.Host) {
    throw new DockerUnavailableError(
      `the Docker context "${name}" has no docker endpoint`,
      "set DOCKER_HOST",
    );
  }
  const tlsDir = join(configDir, "contexts", "tls", hash, "docker");
  return {
    host: endpoint.Host,
    tlsDir: exists(tlsDir) ? tlsDir : null,
    skipVerify: !!endpoint.SkipTLSVerify,
  };
}

/**
 * Finds the Docker engine the way the docker CLI does: DOCKER_HOST, then the current context
 * (DOCKER_CONTEXT or ~/.docker/config.json), then the usual sockets. dockerode itself reads
 * only DOCKER_HOST, so Docker Desktop, Colima and OrbStack contexts would be missed without this.
 */
export function resolveDockerTarget(input: ResolveInput): DockerTarget {
  const { env, home } = input;
  const exists = input.exists ?? existsSync;
  const read = input.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const configDir = env.DOCKER_CONFIG || join(home, ".docker");
  // As with the docker CLI, any non-empty value turns verification on.
  const verify = !!env.DOCKER_TLS_VERIFY;
  const certDir = env.DOCKER_CERT_PATH || (verify ? configDir : null);

  if (env.DOCKER_HOST) {
    const parsed = parseDockerHost(env.DOCKER_HOST, { verify, certDir }, read, env.SSH_AUTH_SOCK);
    return { ...parsed, source: "DOCKER_HOST" };
  }

  let context = env.DOCKER_CONTEXT || null;
  if (!context) {
    const configFile = join(configDir, "config.json");
    if (exists(configFile)) {
      try {
        const config = JSON.parse(read(configFile)) as { currentContext?: unknown };
        if (typeof config.currentContext === "string") context = config.currentContext;
      } catch {
        // An unreadable config.json does not stop the docker CLI either; fall through.
      }
    }
  }
  if (context && context !== "default") {
    const endpoint = contextEndpoint(configDir, context, exists, read);
    const parsed = parseDockerHost(
      endpoint.host,
      { verify: endpoint.tlsDir !== null && !endpoint.skipVerify, certDir: endpoint.tlsDir },
      read,
      env.SSH_AUTH_SOCK,
    );
    return { ...parsed, source: `Docker context "${context}"` };
  }

  const candidates = fallbackSockets(home);
  const socket = candidates.find((p) => exists(p)) ?? "/var/run/docker.sock";
  return { options: { socketPath: socket }, address: `unix://${socket}`, source: "default socket" };
}

/** One line naming the cause of a failed connection, and the fix. */
export function connectionError(target: DockerTarget, error: unknown): DockerUnavailableError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${target.address} (from ${target.source})`;
  switch (code) {
    case "ENOENT":
      return new DockerUnavailableError(
        `cannot reach the Docker engine: no socket at ${where}`,
        "start Docker (Docker Desktop, Colima, or `sudo systemctl start docker`), or set DOCKER_HOST to where it listens",
      );
    case "ECONNREFUSED":
      return new DockerUnavailableError(
        `cannot reach the Docker engine: connection refused at ${where}`,
        "the engine is not running there: start it, or set DOCKER_HOST to where it listens",
      );
    case "EACCES":
    case "EPERM":
      return new DockerUnavailableError(
        `cannot reach the Docker engine: permission denied on ${where}`,
        "add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again), or use rootless Docker",
      );
    case "ETIMEDOUT":
    case "ABORT_ERR":
      return new DockerUnavailableError(
        `cannot reach the Docker engine: no answer from ${where} in time`,
        "check that the engine is running and DOCKER_HOST is right",
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new DockerUnavailableError(
        `cannot reach the Docker engine: unknown host in ${where}`,
        "fix DOCKER_HOST",
      );
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return new DockerUnavailableError(
        `cannot reach the Docker engine at ${where}: ${message}`,
        "check that Docker is running (`docker info`) and DOCKER_HOST is right",
      );
    }
  }
}
