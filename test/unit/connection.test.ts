import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DockerUnavailableError } from "../../src/core/errors.js";
import {
  connectionError,
  type DockerTarget,
  fallbackSockets,
  parseDockerHost,
  resolveDockerTarget,
} from "../../src/sandbox/connection.js";
import { thrown } from "../helpers/thrown.js";

const home = "/home/dev";

/** A fake disk: the files that exist and their contents. */
function disk(files: Record<string, string>) {
  const reads: string[] = [];
  return {
    reads,
    exists: (path: string) => path in files || Object.keys(files).some((f) => f.startsWith(`${path}/`)),
    readFile: (path: string) => {
      reads.push(path);
      const content = files[path];
      if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      return content;
    },
  };
}

function resolve(env: Record<string, string | undefined>, files: Record<string, string> = {}) {
  const d = disk(files);
  return {
    target: resolveDockerTarget({ env, home, exists: d.exists, readFile: d.readFile }),
    reads: d.reads,
  };
}

function metaPath(name: string, configDir = `${home}/.docker`): string {
  const hash = createHash("sha256").update(name).digest("hex");
  return `${configDir}/contexts/meta/${hash}/meta.json`;
}

function contextMeta(name: string, host: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, ...extra } } });
}

describe("DOCKER_HOST", () => {
  it("unix socket", () => {
    expect(resolve({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" }).target).toEqual({
      options: { socketPath: "/run/user/1000/docker.sock" },
      address: "unix:///run/user/1000/docker.sock",
      source: "DOCKER_HOST",
    });
  });

  it("plain tcp, with and without a port", () => {
    expect(resolve({ DOCKER_HOST: "tcp://10.0.0.5:2375" }).target).toEqual({
      options: { host: "10.0.0.5", port: 2375, protocol: "http" },
      address: "tcp://10.0.0.5:2375",
      source: "DOCKER_HOST",
    });
    expect(resolve({ DOCKER_HOST: "tcp://docker.internal" }).target.options).toEqual({
      host: "docker.internal",
      port: 2375,
      protocol: "http",
    });
  });

  it("tcp with DOCKER_TLS_VERIFY reads ca, cert and key from DOCKER_CERT_PATH", () => {
    const { target, reads } = resolve(
      { DOCKER_HOST: "tcp://build.example:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" },
      { "/certs/ca.pem": "CA", "/certs/cert.pem": "CERT", "/certs/key.pem": "KEY" },
    );
    expect(target).toEqual({
      options: { host: "build.example", port: 2376, protocol: "https", ca: "CA", cert: "CERT", key: "KEY" },
      address: "tcp://build.example:2376 (TLS)",
      source: "DOCKER_HOST",
    });
    expect(reads).toEqual(["/certs/ca.pem", "/certs/cert.pem", "/certs/key.pem"]);
  });

  it("TLS without DOCKER_CERT_PATH uses ~/.docker, and the default TLS port", () => {
    const dir = `${home}/.docker`;
    const { target } = resolve(
      { DOCKER_HOST: "tcp://build.example", DOCKER_TLS_VERIFY: "1" },
      { [`${dir}/ca.pem`]: "CA", [`${dir}/cert.pem`]: "CERT", [`${dir}/key.pem`]: "KEY" },
    );
    expect(target.options).toMatchObject({ port: 2376, protocol: "https", ca: "CA", key: "KEY" });
  });

  it("an empty DOCKER_TLS_VERIFY means no TLS; any other value (even 0) turns it on, as in the docker CLI", () => {
    const { target, reads } = resolve({ DOCKER_HOST: "tcp://h:2375", DOCKER_TLS_VERIFY: "" });
    expect(target.options).toEqual({ host: "h", port: 2375, protocol: "http" });
    expect(reads).toEqual([]);
    const on = resolve(
      { DOCKER_HOST: "tcp://h", DOCKER_TLS_VERIFY: "0", DOCKER_CERT_PATH: "/c" },
      { "/c/ca.pem": "CA", "/c/cert.pem": "CERT", "/c/key.pem": "KEY" },
    );
    expect(on.target.options).toMatchObject({ protocol: "https", port: 2376 });
  });

  it("a missing TLS file is an error naming the file and the fix", () => {
    const error = thrown(() =>
      resolve(
        { DOCKER_HOST: "tcp://h", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" },
        { "/certs/ca.pem": "CA" },
      ),
    );
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect(error.message).toContain("/certs/cert.pem");
    expect((error as DockerUnavailableError).hint).toContain("DOCKER_CERT_PATH");
  });

  it("ssh, with user and port", () => {
    const { target } = resolve({ DOCKER_HOST: "ssh://deploy@build.example:2222" });
    expect(target.options).toMatchObject({
      protocol: "ssh",
      host: "build.example",
      port: 2222,
      username: "deploy",
    });
    expect(target.address).toBe("ssh://deploy@build.example");
    expect(resolve({ DOCKER_HOST: "ssh://build.example" }).target.options).toMatchObject({ port: 22 });
  });

  it.each([
    ["not a url", /is not a valid address/],
    ["ftp://files.example", /unsupported scheme \(ftp:\)/],
  ])("%j is refused with a useful message", (host, message) => {
    const error = thrown(() => resolve({ DOCKER_HOST: host }));
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect(error.message).toMatch(message);
    expect((error as DockerUnavailableError).hint).toMatch(/unix:\/\//);
  });

  it("wins over a context", () => {
    const { target } = resolve(
      { DOCKER_HOST: "unix:///custom.sock", DOCKER_CONTEXT: "colima" },
      { [metaPath("colima")]: contextMeta("colima", "unix:///colima.sock") },
    );
    expect(target.options).toEqual({ socketPath: "/custom.sock" });
  });
});

describe("parseDockerHost", () => {
  it("npipe on Windows", () => {
    expect(
      parseDockerHost("npipe:////./pipe/docker_engine", { verify: false, certDir: null }, () => ""),
    ).toEqual({
      options: { socketPath: "\\\\.\\pipe\\docker_engine" },
      address: "npipe:////./pipe/docker_engine",
    });
  });

  it("https:// means TLS even without DOCKER_TLS_VERIFY", () => {
    expect(parseDockerHost("https://h", { verify: false, certDir: null }, () => "").options).toEqual({
      host: "h",
      port: 2376,
      protocol: "https",
    });
  });
});

describe("Docker contexts", () => {
  it("DOCKER_CONTEXT is resolved through contexts/meta/<sha256(name)>/meta.json", () => {
    const sock = `${home}/.colima/default/docker.sock`;
    const { target } = resolve(
      { DOCKER_CONTEXT: "colima" },
      { [metaPath("colima")]: contextMeta("colima", `unix://${sock}`) },
    );
    expect(target).toEqual({
      options: { socketPath: sock },
      address: `unix://${sock}`,
      source: 'Docker context "colima"',
    });
  });

  it("the currentContext of config.json is used when DOCKER_CONTEXT is not set", () => {
    const { target } = resolve(
      {},
      {
        [`${home}/.docker/config.json`]: JSON.stringify({ auths: {}, currentContext: "desktop-linux" }),
        [metaPath("desktop-linux")]: contextMeta(
          "desktop-linux",
          `unix://${home}/.docker/desktop/docker.sock`,
        ),
      },
    );
    expect(target.options).toEqual({ socketPath: `${home}/.docker/desktop/docker.sock` });
    expect(target.source).toBe('Docker context "desktop-linux"');
  });

  it("DOCKER_CONTEXT wins over config.json, and DOCKER_CONFIG moves the folder", () => {
    const dir = "/etc/docker-cfg";
    const { target } = resolve(
      { DOCKER_CONTEXT: "remote", DOCKER_CONFIG: dir },
      {
        [`${dir}/config.json`]: JSON.stringify({ currentContext: "other" }),
        [metaPath("remote", dir)]: contextMeta("remote", "tcp://remote.example:2375"),
      },
    );
    expect(target.options).toEqual({ host: "remote.example", port: 2375, protocol: "http" });
  });

  it("a context with TLS material uses it", () => {
    const hash = createHash("sha256").update("secure").digest("hex");
    const tls = `${home}/.docker/contexts/tls/${hash}/docker`;
    const { target } = resolve(
      { DOCKER_CONTEXT: "secure" },
      {
        [metaPath("secure")]: contextMeta("secure", "tcp://secure.example:2376"),
        [`${tls}/ca.pem`]: "CA",
        [`${tls}/cert.pem`]: "CERT",
        [`${tls}/key.pem`]: "KEY",
      },
    );
    expect(target.options).toEqual({
      host: "secure.example",
      port: 2376,
      protocol: "https",
      ca: "CA",
      cert: "CERT",
      key: "KEY",
    });
    expect(target.address).toBe("tcp://secure.example:2376 (TLS)");
  });

  it("the context named default means the default socket", () => {
    const { target } = resolve({ DOCKER_CONTEXT: "default" }, { "/var/run/docker.sock": "" });
    expect(target).toEqual({
      options: { socketPath: "/var/run/docker.sock" },
      address: "unix:///var/run/docker.sock",
      source: "default socket",
    });
  });

  it("a selected context that does not exist is an error naming it", () => {
    const error = thrown(() => resolve({ DOCKER_CONTEXT: "gone" }));
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect(error.message).toContain('"gone"');
    expect(error.message).toContain(metaPath("gone"));
    expect((error as DockerUnavailableError).hint).toContain("docker context use");
  });

  it("a context file that is not JSON, or has no docker endpoint, is an error", () => {
    expect(thrown(() => resolve({ DOCKER_CONTEXT: "bad" }, { [metaPath("bad")]: "{nope" })).message).toMatch(
      /not valid JSON/,
    );
    expect(
      thrown(() => resolve({ DOCKER_CONTEXT: "empty" }, { [metaPath("empty")]: '{"Endpoints": {}}' }))
        .message,
    ).toMatch(/"empty" has no docker endpoint/);
  });

  it("an unreadable config.json is ignored, as the docker CLI does", () => {
    const { target } = resolve(
      {},
      { [`${home}/.docker/config.json`]: "{broken", "/var/run/docker.sock": "" },
    );
    expect(target.source).toBe("default socket");
  });
});

describe("fallback sockets", () => {
  it("tries Docker Desktop, Colima, OrbStack, Rancher Desktop, then /var/run/docker.sock", () => {
    expect(fallbackSockets(home)).toEqual([
      `${home}/.docker/run/docker.sock`,
      `${home}/.colima/default/docker.sock`,
      `${home}/.orbstack/run/docker.sock`,
      `${home}/.rd/docker.sock`,
      "/var/run/docker.sock",
    ]);
  });

  it("uses the first socket that exists", () => {
    const all = fallbackSockets(home);
    for (let i = 0; i < all.length; i++) {
      const files = Object.fromEntries(all.slice(i).map((p) => [p, ""]));
      const { target } = resolve({}, files);
      expect(target.options).toEqual({ socketPath: all[i] });
      expect(target.source).toBe("default socket");
    }
  });

  it("names /var/run/docker.sock when no socket exists", () => {
    expect(resolve({}).target.address).toBe("unix:///var/run/docker.sock");
  });
});

describe("connectionError", () => {
  const target: DockerTarget = {
    options: { socketPath: "/var/run/docker.sock" },
    address: "unix:///var/run/docker.sock",
    source: "default socket",
  };
  const errno = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

  it.each([
    ["ENOENT", /no socket at unix:\/\/\/var\/run\/docker\.sock \(from default socket\)/, /start Docker/],
    [
      "ECONNREFUSED",
      /connection refused at unix:\/\/\/var\/run\/docker\.sock/,
      /start it, or set DOCKER_HOST/,
    ],
    ["EACCES", /permission denied on unix:\/\/\/var\/run\/docker\.sock/, /docker group/],
    ["ETIMEDOUT", /no answer from unix:\/\/\/var\/run\/docker\.sock/, /DOCKER_HOST/],
    ["ENOTFOUND", /unknown host in unix:\/\/\/var\/run\/docker\.sock/, /fix DOCKER_HOST/],
  ])("%s names the address and gives a fix", (code, message, hint) => {
    const error = connectionError(target, errno(code));
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
  });

  it("an unknown failure keeps the engine's message", () => {
    const error = connectionError(target, new Error("socket hang up"));
    expect(error.message).toBe(
      "cannot reach the Docker engine at unix:///var/run/docker.sock (from default socket): socket hang up",
    );
    expect(error.hint).toContain("docker info");
  });
});
