import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { AbortedError } from "../../src/core/errors.js";
import type { Limits } from "../../src/core/types.js";
import { DockerSandbox } from "../../src/sandbox/docker-sandbox.js";
import type { BuilderMode } from "../../src/sandbox/engine-info.js";
import { Gate } from "../../src/util/gate.js";
import { Redactor } from "../../src/util/secrets.js";
import { describeDocker, docker, leftovers, removeImage } from "../helpers/docker.js";
import { BUSYBOX } from "../helpers/images.js";
import { tempDir, writeTree } from "../helpers/tmp.js";

const tags: string[] = [];
afterAll(async () => {
  for (const tag of tags) await removeImage(tag);
});

const LIMITS: Limits = {
  memoryBytes: 256 * 2 ** 20,
  cpus: 1,
  pids: 64,
  network: "none",
  runTimeoutMs: 20_000,
  buildTimeoutMs: 60_000,
};

let counter = 0;
function sandbox(
  limits: Partial<Limits> = {},
  builder: BuilderMode = "auto",
  hereDocuments = true,
  startGate?: Gate,
) {
  const runId = `test-bk-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  const imageTag = `azlon/${runId}`;
  tags.push(imageTag);
  const box = new DockerSandbox(docker, {
    runId,
    imageTag,
    limits: { ...LIMITS, ...limits },
    maxModelBytes: 65536,
    maxLogBytes: 2 ** 20,
    redactor: new Redactor([]),
    builder,
    buildKit: true,
    hereDocuments,
    ...(startGate ? { startGate } : {}),
  });
  return { box, runId, imageTag };
}

function project(files: Record<string, string>): { context: string; logs: string } {
  const root = tempDir();
  const context = join(root, "workspace");
  mkdirSync(context);
  writeTree(context, files);
  const logs = join(root, "iterations/01");
  mkdirSync(logs, { recursive: true });
  return { context, logs };
}

const never = new AbortController().signal;
const CACHE_MOUNT = `FROM ${BUSYBOX}\nRUN --mount=type=cache,target=/cache echo warm >> /cache/seen && echo "cache holds $(wc -l < /cache/seen) line(s)"\nCOPY app.sh /app.sh\nENTRYPOINT ["sh", "/app.sh"]\n`;

describeDocker("BuildKit and the classic builder against the real engine", () => {
  it("--builder buildkit: a RUN --mount=type=cache Dockerfile builds with BuildKit (the log says so, in plain lines) and runs; a rebuild is cached", async () => {
    const { box, runId } = sandbox({}, "buildkit");
    const p = project({ Dockerfile: CACHE_MOUNT, "app.sh": "echo hello from buildkit\n" });
    const build = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(build.ok, build.log.text).toBe(true);
    expect(build.log.text).toContain("built with BuildKit (the Dockerfile uses RUN --mount)");
    expect(build.log.text).toMatch(/^#\d+ \[stage-0 2\/3\] RUN --mount=type=cache/m);
    expect(build.log.text).toContain("cache holds");
    // The plain lines, never BuildKit's base64 protobuf.
    expect(build.log.text).not.toContain("moby.buildkit.trace");
    const exec = await box.run({ path: join(p.logs, "output.log") }, never);
    expect(exec.output.text).toContain("hello from buildkit");
    const image = await docker.getImage(box.imageTag).inspect();
    expect(image.Config.Labels["azlon.run"]).toBe(runId);
    const again = await box.build(p.context, { path: join(p.logs, "build2.log") }, never);
    expect(again.ok).toBe(true);
    expect(again.log.text).toMatch(/#\d+ CACHED/);
    await box.cleanup();
    expect((await leftovers(runId)).containers).toBe(0);
  });

  it("a failing BuildKit step: its output and the error line are in the log the model sees", async () => {
    const { box } = sandbox();
    const p = project({
      Dockerfile: `FROM ${BUSYBOX}\nRUN --mount=type=tmpfs,target=/c echo "compiling..." && echo "boom: missing header" >&2 && exit 3\n`,
    });
    const build = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(build.ok).toBe(false);
    expect(build.log.text).toContain("boom: missing header");
    expect(build.log.text).toMatch(/ERROR: .*exit code: 3/);
    expect(readFileSync(join(p.logs, "build.log"), "utf8")).toMatch(/ERROR: .*exit code: 3/);
  });

  it("the classic builder holds a RUN step to --memory: 300 MB fails under 64m and passes under 1g", async () => {
    const hog = `FROM ${BUSYBOX}\nRUN dd if=/dev/zero of=/dev/null bs=300M count=1 && echo "allocated 300 MB"\n`;
    const small = sandbox({ memoryBytes: 64 * 2 ** 20 });
    const p = project({ Dockerfile: hog });
    const failed = await small.box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(failed.ok).toBe(false);
    expect(failed.log.text).not.toContain("built with BuildKit");
    expect(failed.log.text).toMatch(/returned a non-zero code: 137|killed|memory/i);
    const large = sandbox({ memoryBytes: 2 ** 30 });
    const passed = await large.box.build(p.context, { path: join(p.logs, "build-1g.log") }, never);
    expect(passed.ok, passed.log.text).toBe(true);
    expect(passed.log.text).toContain("allocated 300 MB");
  });

  it("--builder classic: a Dockerfile that needs BuildKit fails with the classic builder's own error, and the log says why", async () => {
    const { box } = sandbox({}, "classic");
    const p = project({
      Dockerfile: `FROM ${BUSYBOX}\nCOPY --chmod=755 app.sh /app.sh\nENTRYPOINT ["sh", "/app.sh"]\n`,
      "app.sh": "echo hi\n",
    });
    const build = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(build.ok).toBe(false);
    expect(build.log.text).toContain(
      "built with the classic builder (--builder classic): COPY --chmod needs BuildKit",
    );
  });

  it("auto: cache mounts are left out and the classic builder holds their RUN steps to --memory (300 MB fails under 64m); the rest builds and runs", async () => {
    const hog = `FROM ${BUSYBOX}\nRUN --mount=type=cache,target=/root/.cache dd if=/dev/zero of=/dev/null bs=300M count=1 && echo "allocated 300 MB"\n`;
    const small = sandbox({ memoryBytes: 64 * 2 ** 20 });
    const p = project({ Dockerfile: hog });
    const failed = await small.box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(failed.ok).toBe(false);
    expect(failed.log.text).toContain(
      "built with the classic builder, which holds RUN steps to the memory and CPU limits",
    );
    expect(failed.log.text).toMatch(/returned a non-zero code: 137|killed|memory/i);
    // The same cache-mount Dockerfile the classic builder refused before builds and runs.
    const { box } = sandbox();
    const q = project({ Dockerfile: CACHE_MOUNT, "app.sh": "echo hello from the classic builder\n" });
    const build = await box.build(q.context, { path: join(q.logs, "build.log") }, never);
    expect(build.ok, build.log.text).toBe(true);
    expect(build.log.text).toContain("RUN --mount=type=cache options were left out");
    expect(build.log.text).not.toContain("requires BuildKit");
    const exec = await box.run({ path: join(q.logs, "output.log") }, never);
    expect(exec.output.text).toContain("hello from the classic builder");
    // The model's Dockerfile in its workspace is untouched.
    expect(readFileSync(join(q.context, "Dockerfile"), "utf8")).toBe(CACHE_MOUNT);
  });

  it("a here-document on an engine whose BuildKit cannot read it: the log tells the model to write files another way", async () => {
    const { box: here } = sandbox({}, "auto", false);
    const p = project({ Dockerfile: `FROM ${BUSYBOX}\nRUN <<EOF\necho hi > /hi.txt\nEOF\n` });
    const build = await here.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(build.log.text).toContain(
      "this engine's BuildKit cannot read here-documents (Docker 23 and later can)",
    );
    await here.cleanup();
  });

  it("the build time limit and Ctrl-C stop a BuildKit build and leave nothing behind", async () => {
    const slow = `FROM ${BUSYBOX}\nRUN --mount=type=tmpfs,target=/c echo started && sleep 60\n`;
    const timed = sandbox({ buildTimeoutMs: 3000 });
    const p = project({ Dockerfile: slow });
    const started = Date.now();
    const build = await timed.box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(build).toMatchObject({ ok: false, timedOut: true });
    expect(build.log.text).toContain("the build time limit");
    await timed.box.cleanup();
    expect(await leftovers(timed.runId)).toEqual({ containers: 0, images: [] });

    const interrupted = sandbox();
    const q = project({ Dockerfile: slow.replace("started", "started again") });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new AbortedError("interrupted")), 2000);
    await expect(
      interrupted.box.build(q.context, { path: join(q.logs, "build.log") }, controller.signal),
    ).rejects.toBeInstanceOf(AbortedError);
    await interrupted.box.cleanup();
    expect(await leftovers(interrupted.runId)).toEqual({ containers: 0, images: [] });
  });

  it("auto: a Dockerfile whose build runs nothing (no RUN step) is built by BuildKit, and labelled; a RUN step (split across lines too), or a base image's ONBUILD trigger, keeps the classic builder and its limits", async () => {
    const { box, runId } = sandbox();
    const p = project({
      Dockerfile: `FROM ${BUSYBOX}\nWORKDIR /app\nCOPY app.sh ./\nCMD ["sh", "app.sh"]\n`,
      "app.sh": "echo nothing ran to build me\n",
    });
    const build = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(build.ok, build.log.text).toBe(true);
    // BuildKit's plain lines, not the classic builder's "Step 1/4".
    expect(build.log.text).toMatch(/^#\d+ \[\d\/3\] COPY app\.sh/m);
    expect(build.log.text).not.toContain("Step 1/");
    expect((await docker.getImage(box.imageTag).inspect()).Config.Labels["azlon.run"]).toBe(runId);
    const exec = await box.run({ path: join(p.logs, "output.log") }, never);
    expect(exec.output.text).toContain("nothing ran to build me");
    await box.cleanup();
    expect(await leftovers(runId)).toEqual({ containers: 0, images: [`${box.imageTag}:latest`] });

    const ran = sandbox();
    const q = project({ Dockerfile: `FROM ${BUSYBOX}\nRUN echo built > /built\nCMD ["cat", "/built"]\n` });
    const classic = await ran.box.build(q.context, { path: join(q.logs, "build.log") }, never);
    expect(classic.ok, classic.log.text).toBe(true);
    expect(classic.log.text).toContain("Step 1/");
    await ran.box.cleanup();
    // The same RUN split inside its keyword (the engine joins `R\` and `UN ...` into RUN): still
    // a step that runs, so still the classic builder and its limits.
    const split = sandbox();
    const r = project({
      Dockerfile: `FROM ${BUSYBOX}\nR\\\nUN echo built > /built\nCMD ["cat", "/built"]\n`,
    });
    const splitBuild = await split.box.build(r.context, { path: join(r.logs, "build.log") }, never);
    expect(splitBuild.ok, splitBuild.log.text).toBe(true);
    expect(splitBuild.log.text).toContain("Step 1/");
    await split.box.cleanup();

    // A base image whose ONBUILD trigger would run in the build: the classic builder, which holds it to the limits.
    const base = sandbox();
    const b = project({ Dockerfile: `FROM ${BUSYBOX}\nONBUILD RUN echo trigger ran > /trigger\n` });
    expect((await base.box.build(b.context, { path: join(b.logs, "build.log") }, never)).ok).toBe(true);
    const child = sandbox();
    const c = project({ Dockerfile: `FROM ${base.imageTag}\nCOPY app.sh /app.sh\n`, "app.sh": "true\n" });
    const triggered = await child.box.build(c.context, { path: join(c.logs, "build.log") }, never);
    expect(triggered.ok, triggered.log.text).toBe(true);
    expect(triggered.log.text).toContain("Step 1/");
    expect(triggered.log.text).toMatch(/trigger/i);
    await child.box.cleanup();
    await removeImage(child.imageTag);
    await base.box.cleanup();
  });

  it("a resumed run's first cleanup (before it builds) still removes the images an earlier leg left, though BuildKit builds leave none", async () => {
    const runId = `test-bk-${process.pid}-${Date.now().toString(36)}-leg`;
    // What a killed leg left: an untagged image labelled with the run.
    const p = project({ Dockerfile: `FROM ${BUSYBOX}\nCOPY a.txt /a.txt\n`, "a.txt": "left\n" });
    const left = (await docker.buildImage(
      { context: p.context, src: ["Dockerfile", "a.txt"] },
      { labels: { "azlon.run": runId } },
    )) as unknown as NodeJS.ReadableStream;
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(left, (error: Error | null) => (error ? reject(error) : resolve(null))),
    );
    const labelled = () =>
      docker.listImages({ all: true, filters: JSON.stringify({ label: [`azlon.run=${runId}`] }) });
    expect(await labelled()).toHaveLength(1);
    const resumed = new DockerSandbox(docker, {
      runId,
      imageTag: `azlon/${runId}`,
      limits: LIMITS,
      maxModelBytes: 65536,
      maxLogBytes: 2 ** 20,
      redactor: new Redactor([]),
      buildKit: true,
    });
    tags.push(`azlon/${runId}`);
    await resumed.cleanup();
    expect(await labelled()).toHaveLength(0);
  });

  it("a FROM that is no image name (a path the engine's API would follow) is never asked about: the build fails with the builder's own error, and azlon goes on", async () => {
    for (const from of ["..%2Finfo", "../info?x=", "busybox/../../info"]) {
      const { box, runId } = sandbox();
      const p = project({ Dockerfile: `FROM ${from}\nCOPY a.txt /a.txt\n`, "a.txt": "a\n" });
      const build = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
      expect(build.ok, from).toBe(false);
      await box.cleanup();
      expect(await leftovers(runId)).toEqual({ containers: 0, images: [] });
    }
  });

  it("in a batch, a run keeps its place from its build's start until its program's container starts: another run's build waits until then; a failed build, or a cleanup, frees the place; rebuilt, a run leaves only its last image", async () => {
    const gate = new Gate(1);
    const waits = (box: DockerSandbox, context: string, logs: string) =>
      expect(
        box.build(context, { path: join(logs, "wait.log") }, AbortSignal.timeout(1500)),
      ).rejects.toBeInstanceOf(AbortedError);
    const first = sandbox({}, "auto", true, gate);
    const second = sandbox({}, "auto", true, gate);
    const p = project({
      Dockerfile: `FROM ${BUSYBOX}\nCOPY app.sh /app.sh\nCMD ["sh", "/app.sh"]\n`,
      "app.sh": "sleep 3; echo one\n",
    });
    const q = project({ Dockerfile: `FROM ${BUSYBOX}\nRUN true\nCMD ["echo", "two"]\n` });

    // Built, the first run holds the only place: the second's build (one that runs code, or
    // one that runs nothing alike) waits, while the first goes on to its program.
    expect((await first.box.build(p.context, { path: join(p.logs, "build.log") }, never)).ok).toBe(true);
    await waits(second.box, q.context, q.logs);
    await waits(second.box, p.context, q.logs);
    // Its program started, the place is free while the program runs.
    let ran = false;
    const running = first.box.run({ path: join(p.logs, "output.log") }, never).then((exec) => {
      ran = true;
      return exec;
    });
    expect((await second.box.build(q.context, { path: join(q.logs, "build.log") }, never)).ok).toBe(true);
    expect(ran).toBe(false);
    expect((await running).output.text).toContain("one");
    expect((await second.box.run({ path: join(q.logs, "output.log") }, never)).output.text).toContain("two");

    // A build that fails gives its place up at once.
    writeTree(q.context, { Dockerfile: `FROM ${BUSYBOX}\nRUN exit 3\n` });
    expect((await second.box.build(q.context, { path: join(q.logs, "build2.log") }, never)).ok).toBe(false);
    // A run that stops between its build and its program gives it up at its cleanup.
    writeTree(p.context, { "app.sh": "echo again\n" });
    expect((await first.box.build(p.context, { path: join(p.logs, "build2.log") }, never)).ok).toBe(true);
    await waits(second.box, q.context, q.logs);
    await first.box.cleanup();
    const third = sandbox({}, "auto", true, gate);
    expect((await third.box.build(p.context, { path: join(p.logs, "build3.log") }, never)).ok).toBe(true);
    await third.box.cleanup();

    await second.box.cleanup();
    // Rebuilt, each run kept only its last image (the second's last good one: a failed build
    // leaves the tag where it was).
    expect(await leftovers(first.runId)).toEqual({ containers: 0, images: [`${first.imageTag}:latest`] });
    expect(await leftovers(second.runId)).toEqual({ containers: 0, images: [`${second.imageTag}:latest`] });
  });
});
