import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { AbortedError } from "../../src/core/errors.js";
import type { Limits } from "../../src/core/types.js";
import { DockerSandbox } from "../../src/sandbox/docker-sandbox.js";
import type { Owner } from "../../src/sandbox/owner.js";
import { Redactor } from "../../src/util/secrets.js";
import { describeDocker, docker, leftovers, removeImage } from "../helpers/docker.js";
import { BUSYBOX, PYTHON } from "../helpers/images.js";
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
  extra: { secrets?: string[]; maxLogBytes?: number; runId?: string; owner?: Owner } = {},
) {
  const runId = extra.runId ?? `test-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  const imageTag = `azlon/${runId}`;
  tags.push(imageTag);
  const box = new DockerSandbox(docker, {
    runId,
    imageTag,
    limits: { ...LIMITS, ...limits },
    maxModelBytes: 65536,
    maxLogBytes: extra.maxLogBytes ?? 2 ** 20,
    redactor: new Redactor(extra.secrets ?? []),
    ...(extra.owner ? { owner: extra.owner } : {}),
  });
  return { box, runId, imageTag };
}

/** A workspace with these files, and its iteration folder for logs. */
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

async function buildAndRun(box: DockerSandbox, files: Record<string, string>, signal = never) {
  const p = project(files);
  const build = await box.build(p.context, { path: join(p.logs, "build.log") }, signal);
  expect(build.ok, build.log.text).toBe(true);
  const exec = await box.run({ path: join(p.logs, "output.log") }, signal);
  return { build, exec, logs: p.logs };
}

describeDocker("the Docker sandbox against the real engine", () => {
  it("runs a program with every limit in force: memory, pids, no capabilities, no new privileges", async () => {
    const { box, runId } = sandbox();
    const { exec } = await buildAndRun(box, {
      Dockerfile: `FROM ${BUSYBOX}\nCMD ["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null; echo cpu $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu.max 2>/dev/null); grep -E 'CapEff|NoNewPrivs' /proc/self/status; ls /sys/class/net"]\n`,
    });
    expect(exec.exitCode).toBe(0);
    expect(exec.output.text).toContain(String(256 * 2 ** 20));
    expect(exec.output.text).toMatch(/^64$/m);
    expect(exec.output.text).toMatch(/^cpu 100000\b/m); // one CPU: 100 ms of every 100 ms
    expect(exec.output.text).toMatch(/CapEff:\s+0+$/m);
    expect(exec.output.text).toMatch(/NoNewPrivs:\s+1$/m);
    expect(exec.output.text.trim().split("\n").at(-1)).toBe("lo"); // network none: loopback only
    await box.cleanup();
    expect((await leftovers(runId)).containers).toBe(0);
  });

  it("stops a program that never ends at the run timeout, reports it, and leaves nothing behind", async () => {
    const { box, runId } = sandbox({ runTimeoutMs: 1500 });
    const started = Date.now();
    const { exec } = await buildAndRun(box, {
      Dockerfile: `FROM ${BUSYBOX}\nCMD ["sh", "-c", "echo started; while true; do sleep 1; done"]\n`,
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(exec.timedOut).toBe(true);
    expect(exec.output.text).toContain("started");
    expect(exec.output.text).toContain("run time limit");
    expect((await leftovers(runId)).containers).toBe(0);
  });

  it("bounds 100 MB of output for the model, caps the log on disk, and keeps azlon's memory flat", async () => {
    const { box } = sandbox({}, { maxLogBytes: 1_000_000 });
    const p = project({
      // 100 MB of numbered lines, then a last line the judge must still see.
      Dockerfile: `FROM ${BUSYBOX}\nCMD ["sh", "-c", "seq 1 12500000; echo THE-END"]\n`,
    });
    const build = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(build.ok).toBe(true);
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    const exec = await box.run({ path: join(p.logs, "output.log") }, never);
    clearInterval(sampler);
    expect(exec.output.totalBytes).toBeGreaterThan(100_000_000);
    expect(exec.output.truncated).toBe(true);
    expect(Buffer.byteLength(exec.output.text)).toBeLessThanOrEqual(65536);
    expect(exec.output.text.startsWith("1\n2\n3\n")).toBe(true);
    expect(exec.output.text.trim().endsWith("THE-END")).toBe(true);
    expect(exec.output.text).toContain("[... azlon cut about");
    const log = readFileSync(join(p.logs, "output.log"), "utf8");
    expect(statSync(join(p.logs, "output.log")).size).toBeLessThan(1_000_000 + 40_000);
    expect(log).toContain("this log is capped at");
    expect(log.trim().endsWith("THE-END")).toBe(true);
    // Holding 100 MB as strings would take over 200 MB; streaming stays far below (the heap's
    // own slack under a loaded machine's GC timing measured up to ~64 MB, hence the margin).
    expect(peak - baseline).toBeLessThan(100 * 2 ** 20);
  });

  it("reports a memory hog as out of memory", async () => {
    const { box } = sandbox({ memoryBytes: 64 * 2 ** 20 });
    const { exec } = await buildAndRun(box, {
      Dockerfile: `FROM ${PYTHON}\nCMD ["python3", "-c", "print('allocating', flush=True); x = b'a' * (512 * 1024 * 1024); print('survived')"]\n`,
    });
    expect(exec.oomKilled).toBe(true);
    expect(exec.exitCode).toBe(137);
    expect(exec.output.text).toContain("allocating");
    expect(exec.output.text).not.toContain("survived");
    expect(exec.output.text).toContain("ran out of memory");
  });

  it("contains a fork bomb with the process limit", async () => {
    const { box, runId } = sandbox({ pids: 32, runTimeoutMs: 4000 });
    const { exec } = await buildAndRun(box, {
      Dockerfile: `FROM ${BUSYBOX}\nCMD ["sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 2; echo still-here"]\n`,
    });
    // The bomb hits the limit (fork fails) instead of taking the machine down.
    expect(exec.output.text).toMatch(/can't fork|Resource temporarily unavailable|Cannot fork/i);
    expect((await leftovers(runId)).containers).toBe(0);
    // The host still starts processes normally.
    const probe = sandbox();
    const after = await buildAndRun(probe.box, { Dockerfile: `FROM ${BUSYBOX}\nCMD ["echo", "fine"]\n` });
    expect(after.exec.output.text).toBe("fine\n");
  });

  it("a program that connects out fails under network none, and works under bridge", async () => {
    // A TCP server on the host that containers on the bridge can reach through the gateway.
    const server = createServer((socket) => socket.end("pong\n"));
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    const port = (server.address() as { port: number }).port;
    const network = await docker.getNetwork("bridge").inspect();
    const gateway = network.IPAM?.Config?.[0]?.Gateway ?? "172.17.0.1";
    const script = `import socket\ntry:\n    s = socket.create_connection(("${gateway}", ${port}), timeout=3)\n    print("connected:", s.recv(10).decode().strip())\nexcept OSError as e:\n    print("no connection:", e)\n`;
    const files = {
      Dockerfile: `FROM ${PYTHON}\nCOPY probe.py /probe.py\nCMD ["python3", "/probe.py"]\n`,
      "probe.py": script,
    };
    try {
      const closed = await buildAndRun(sandbox({ network: "none" }).box, files);
      expect(closed.exec.output.text).toContain("no connection:");
      const open = await buildAndRun(sandbox({ network: "bridge" }).box, files);
      expect(open.exec.output.text).toContain("connected: pong");
    } finally {
      server.close();
    }
  });

  it("stops a build past its time limit and says so", async () => {
    const { box, runId } = sandbox({ buildTimeoutMs: 2000 });
    const p = project({ Dockerfile: `FROM ${BUSYBOX}\nRUN echo building && sleep 60\nCMD ["true"]\n` });
    const started = Date.now();
    const build = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(build).toMatchObject({ ok: false, timedOut: true });
    expect(build.log.text).toContain("building");
    expect(build.log.text).toContain("build time limit");
    // The engine stops the step's container when the build is cancelled.
    await new Promise((r) => setTimeout(r, 1500));
    const running = await docker.listContainers({ filters: JSON.stringify({ status: ["running"] }) });
    expect(running.filter((c) => c.Command.includes("sleep 60"))).toHaveLength(0);
    await box.cleanup();
    expect((await leftovers(runId)).containers).toBe(0);
  });

  it("a base image that cannot be pulled is a failed build with its log, not a crash", async () => {
    const { box } = sandbox();
    const p = project({ Dockerfile: 'FROM azlon-no-such-image-anywhere:1.0\nCMD ["true"]\n' });
    const build = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(build.ok).toBe(false);
    expect(build.timedOut).toBe(false);
    expect(build.log.text).toContain("FROM azlon-no-such-image-anywhere:1.0");
    expect(build.log.text).toMatch(/^ERROR: /m);
    expect(readFileSync(join(p.logs, "build.log"), "utf8")).toContain("azlon-no-such-image-anywhere");
  });

  it("an entrypoint that does not exist is the program's failure (exit 127), not a crash", async () => {
    const { box, runId } = sandbox();
    const { exec } = await buildAndRun(box, {
      Dockerfile: `FROM ${BUSYBOX}\nENTRYPOINT ["/no/such/binary"]\n`,
    });
    expect(exec.exitCode).toBe(127);
    expect(exec.output.text).toContain("could not start");
    expect((await leftovers(runId)).containers).toBe(0);
  });

  it("keeps only the final image: earlier builds of the run are removed", async () => {
    const { box, runId, imageTag } = sandbox();
    const p = project({ Dockerfile: `FROM ${BUSYBOX}\nRUN echo one > /v\nCMD ["cat", "/v"]\n` });
    const first = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    writeFileSync(join(p.context, "Dockerfile"), `FROM ${BUSYBOX}\nRUN echo two > /v\nCMD ["cat", "/v"]\n`);
    const second = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(first.imageId).not.toBe(second.imageId);
    await box.cleanup();
    const left = await leftovers(runId);
    expect(left.images).toEqual([`${imageTag}:latest`]);
    await expect(docker.getImage(first.imageId as string).inspect()).rejects.toThrow();
    const exec = await box.run({ path: join(p.logs, "output.log") }, never);
    expect(exec.output.text).toBe("two\n");
  });

  it("labels the image after FROM, where the next build finds the step in its cache", async () => {
    const { box, runId } = sandbox();
    const p = project({
      Dockerfile: `FROM ${BUSYBOX}\nCOPY m.txt /m.txt\nCMD ["cat", "/m.txt"]\n`,
      "m.txt": "1\n",
    });
    expect((await box.build(p.context, { path: join(p.logs, "build.log") }, never)).ok).toBe(true);
    writeFileSync(join(p.context, "m.txt"), "2\n");
    const second = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(second.ok).toBe(true);
    // The label step is the second one, and it comes from the cache: one container fewer per build.
    expect(second.log.text).toMatch(/Step 2\/4 : LABEL "azlon\.run"="[^"]+".*\n ---> Using cache/);
    const image = await docker.getImage(second.imageId as string).inspect();
    expect(image.Config.Labels?.["azlon.run"]).toBe(runId);
    expect(readFileSync(join(p.context, "Dockerfile"), "utf8")).not.toContain("LABEL"); // the workspace is untouched
    expect((await box.run({ path: join(p.logs, "output.log") }, never)).output.text).toBe("2\n");
  });

  it("a resumed run (another process, the same run) builds an unchanged project wholly from the cache", async () => {
    const files = {
      Dockerfile: `FROM ${BUSYBOX}\nRUN echo built > /v\nCOPY m.txt /m.txt\nCMD ["cat", "/v"]\n`,
      "m.txt": "1\n",
    };
    const first = sandbox({}, { owner: { pid: 101, host: "first" } });
    const p = project(files);
    expect((await first.box.build(p.context, { path: join(p.logs, "build.log") }, never)).ok).toBe(true);
    const resumed = sandbox({}, { runId: first.runId, owner: { pid: 202, host: "second" } });
    const again = await resumed.box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(again.ok).toBe(true);
    // Every step after FROM comes from the cache: nothing ran again.
    expect(again.log.text).not.toContain("Running in");
    expect(again.log.text.match(/---> Using cache/g)).toHaveLength(4);
  });

  it("a service's container is labelled to live through its readiness wait and every check, not just the run timeout", async () => {
    const { box, runId } = sandbox();
    const p = project({ Dockerfile: `FROM ${BUSYBOX}\nCMD ["sleep", "600"]\n` });
    expect((await box.build(p.context, { path: join(p.logs, "build.log") }, never)).ok).toBe(true);
    const checks = {
      commands: ["true", "true"],
      checksDir: null,
      timeoutMs: 60_000,
      log: (i: number) => ({ path: join(p.logs, `check-${i}.log`) }),
      projectDir: p.context,
      program: null,
    };
    const started = Date.now();
    const served = box.runService(
      { ready: "false", readyTimeoutMs: 4_000, checks },
      { path: join(p.logs, "output.log") },
      never,
    );
    let deadline: string | undefined;
    for (let i = 0; i < 40 && deadline === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const [c] = await docker.listContainers({ all: true, filters: { label: [`azlon.run=${runId}`] } });
      deadline = c?.Labels["azlon.deadline"];
    }
    await served;
    // The readiness wait (4 s) and two checks of 60 s: far past the 20 s run timeout.
    expect(Date.parse(deadline as string) - started).toBeGreaterThan(4_000 + 2 * 60_000);
  });

  it("masks a secret the program prints, in the log and in what the model sees", async () => {
    const secret = "sk-live-0123456789abcdef";
    const { box } = sandbox({}, { secrets: [secret] });
    const { exec, logs } = await buildAndRun(box, {
      Dockerfile: `FROM ${BUSYBOX}\nCMD ["echo", "key=${secret}"]\n`,
    });
    expect(exec.output.text).toBe("key=[secret]\n");
    expect(readFileSync(join(logs, "output.log"), "utf8")).not.toContain(secret);
  });

  it("an abort (Ctrl-C) kills the running container and removes it", async () => {
    const { box, runId } = sandbox();
    const p = project({ Dockerfile: `FROM ${BUSYBOX}\nCMD ["sleep", "60"]\n` });
    expect((await box.build(p.context, { path: join(p.logs, "build.log") }, never)).ok).toBe(true);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new AbortedError("interrupted")), 800);
    const started = Date.now();
    await expect(box.run({ path: join(p.logs, "output.log") }, controller.signal)).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await leftovers(runId)).containers).toBe(0);
  });

  it("a failed build leaves none of its step images behind", async () => {
    const { box } = sandbox();
    const p = project({
      Dockerfile: `FROM ${BUSYBOX}\nRUN echo a > /a\nRUN echo b > /b\nRUN echo failing && false\n`,
    });
    const build = await box.build(p.context, { path: join(p.logs, "build.log") }, never);
    expect(build.ok).toBe(false);
    const base = (await docker.getImage(BUSYBOX).inspect()).Id;
    const ids = [...readFileSync(join(p.logs, "build.log"), "utf8").matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map(
      (m) => m[1] as string,
    );
    const steps = ids.filter((id) => !base.includes(id));
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (const id of steps) await expect(docker.getImage(id).inspect()).rejects.toThrow();
    await expect(docker.getImage(BUSYBOX).inspect()).resolves.toBeTruthy(); // the base stays
  });

  it("names the signal that killed a program", async () => {
    // PID 1 ignores signals it has no handler for, so a child crashes and the shell passes it on.
    const { box } = sandbox();
    const { exec } = await buildAndRun(box, {
      Dockerfile: `FROM ${BUSYBOX}\nCMD ["sh", "-c", "echo crashing; sh -c 'kill -SEGV $$'; exit $?"]\n`,
    });
    expect(exec.exitCode).toBe(139);
    expect(exec.signal).toBe("SIGSEGV");
    expect(exec.output.text).toContain("killed by SIGSEGV");
  });

  it("a program that exits at once is seen to exit (no lost wake-up)", async () => {
    const { box } = sandbox({ runTimeoutMs: 20_000 });
    const p = project({ Dockerfile: `FROM ${BUSYBOX}\nCMD ["true"]\n` });
    expect((await box.build(p.context, { path: join(p.logs, "build.log") }, never)).ok).toBe(true);
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const exec = await box.run({ path: join(p.logs, "output.log") }, never);
      expect(exec).toMatchObject({ exitCode: 0, timedOut: false });
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });
});
