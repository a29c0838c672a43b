/**
 * A rebuild after a one-line change to a requirements.txt-style manifest, with a BuildKit cache
 * mount and without one. No package index is reachable here, so "installing" a package is a
 * second of work whose result a cache keeps: the shape of `pip install` with a wheel cache.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { DockerSandbox } from "../src/sandbox/docker-sandbox.js";
import { Redactor } from "../src/util/secrets.js";

const INSTALL = (cache: string) =>
  `mkdir -p /deps && for p in $(cat /requirements.txt); do if [ ! -f ${cache}/$p ]; then sleep 1; echo "$p built" > ${cache}/$p; fi; cp ${cache}/$p /deps/$p; done`;

// The cache's own id: the engine keeps a cache mount across builds (and bench runs), and one
// warm from an earlier run would hold the new package too.
const WITH_MOUNT = (image: string) =>
  `FROM ${image}\nCOPY requirements.txt /requirements.txt\nRUN --mount=type=cache,id=azlon-bench-${process.pid}-${Date.now().toString(36)},target=/cache ${INSTALL("/cache")}\n`;
const WITHOUT_MOUNT = (image: string) =>
  `FROM ${image}\nCOPY requirements.txt /requirements.txt\nRUN mkdir -p /cache && ${INSTALL("/cache")}\n`;

const PACKAGES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];

async function rebuildTime(dockerfile: string, label: string): Promise<number> {
  const docker = new Docker();
  const root = mkdtempSync(join(tmpdir(), "azlon-bench-cache-"));
  const context = join(root, "workspace");
  mkdirSync(context);
  const runId = `bench-cache-${label}-${process.pid}-${Date.now().toString(36)}`;
  const box = new DockerSandbox(docker, {
    runId,
    imageTag: `azlon/${runId}`,
    limits: {
      memoryBytes: 2 ** 30,
      cpus: 1,
      pids: 256,
      network: "none",
      runTimeoutMs: 60_000,
      buildTimeoutMs: 300_000,
    },
    maxModelBytes: 65536,
    maxLogBytes: 2 ** 20,
    redactor: new Redactor([]),
    // The cache mount needs BuildKit (auto leaves it out, for the classic builder's limits).
    builder: label === "mount" ? "buildkit" : "auto",
    buildKit: true,
  });
  const signal = new AbortController().signal;
  try {
    writeFileSync(join(context, "Dockerfile"), dockerfile);
    writeFileSync(join(context, "requirements.txt"), `${PACKAGES.join("\n")}\n`);
    const first = await box.build(context, { path: join(root, "build-1.log") }, signal);
    if (!first.ok) throw new Error(`bench: the cache-mount build failed:\n${first.log.text}`);
    // One line more in the manifest: the COPY and everything after it runs again.
    writeFileSync(join(context, "requirements.txt"), `${[...PACKAGES, "eta"].join("\n")}\n`);
    const started = performance.now();
    const second = await box.build(context, { path: join(root, "build-2.log") }, signal);
    if (!second.ok) throw new Error(`bench: the rebuild failed:\n${second.log.text}`);
    return performance.now() - started;
  } finally {
    await box.cleanup();
    await docker
      .getImage(`azlon/${runId}`)
      .remove({ force: true })
      .catch(() => {});
    rmSync(root, { recursive: true, force: true });
  }
}

/** The rebuild's time with a cache mount (BuildKit) and without (the classic builder). */
export async function cacheMountFigure(image: string): Promise<{ withMount: number; without: number }> {
  const withMount = await rebuildTime(WITH_MOUNT(image), "mount");
  const without = await rebuildTime(WITHOUT_MOUNT(image), "plain");
  return { withMount, without };
}
