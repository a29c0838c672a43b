import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker, leftovers, removeLabelled } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { FaultyEngine } from "../helpers/engine-proxy.js";
import { fail, generation, lastUserMessage, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { onlyRunDir, readJournal, readRun } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-limits-1f2e3d4c5b";
const { server, images } = loopbackModel();

/** Prints the limits the program finds itself under (cgroup v2, else v1) and its interfaces. */
const PROBE = `
read_first() { for f in "$@"; do [ -r "$f" ] && { cat "$f"; return; }; done; echo unknown; }
echo "memory $(read_first /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes)"
echo "pids $(read_first /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max)"
if [ -r /sys/fs/cgroup/cpu.max ]; then echo "cpu $(cat /sys/fs/cgroup/cpu.max)"
else echo "cpu $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; fi
echo "interfaces $(ls /sys/class/net | tr '\\n' ' ')"
`;

const probe = () =>
  generation(`FROM ${BUSYBOX}\nCOPY probe.sh /probe.sh\nENTRYPOINT ["sh", "/probe.sh"]\n`, {
    "probe.sh": PROBE,
  });

async function run(extra: string[], env: Record<string, string> = {}) {
  const cwd = tempDir();
  const out = join(cwd, "runs");
  const r = await runCli(runArgs(server, out, extra), { cwd, env: { OPENAI_API_KEY: KEY, ...env } });
  const json = r.stdout.trim() ? JSON.parse(r.stdout) : null;
  if (json?.image) images.push(json.image);
  return { ...r, json, cwd, out };
}

describeDocker("limits, input and failures through the CLI (real engine, loopback model)", () => {
  it("--memory, --pids, --cpus and --network hold inside the program's container", async () => {
    server.enqueue(probe(), pass(["pids 40"]));
    const r = await run(["--memory", "96m", "--pids", "40", "--cpus", "0.5", "--network", "bridge"]);
    expect(r.code, r.stderr).toBe(0);
    const output = readFileSync(join(r.json.runDir, "iterations/01/output.log"), "utf8");
    expect(output).toContain(`memory ${96 * 2 ** 20}\n`);
    expect(output).toContain("pids 40\n");
    expect(output).toMatch(/^cpu 50000 100000$/m);
    expect(output).toMatch(/^interfaces .*eth0/m); // bridge: an interface besides loopback
    expect(readRun(r.json.runDir).options.limits).toMatchObject({
      memoryBytes: 96 * 2 ** 20,
      pids: 40,
      cpus: 0.5,
      network: "bridge",
    });
  });

  it("by default the program has the default limits and loopback only", async () => {
    server.enqueue(probe(), pass(["pids 256"]));
    const r = await run([]);
    expect(r.code, r.stderr).toBe(0);
    const output = readFileSync(join(r.json.runDir, "iterations/01/output.log"), "utf8");
    expect(output).toContain(`memory ${2 ** 30}\n`);
    expect(output).toContain("pids 256\n");
    expect(output).toContain("interfaces lo \n");
  });

  it("--prompt-file - takes the prompt from standard input", async () => {
    server.enqueue(probe(), pass(["pids 256"]));
    const prompt = "a probe that prints its limits, read from a pipe";
    const cwd = tempDir();
    const out = join(cwd, "runs");
    const args = runArgs(server, out).map((a) => (a === "--prompt" ? "--prompt-file" : a));
    args[args.indexOf("--prompt-file") + 1] = "-";
    const r = await runCli(args, { cwd, env: { OPENAI_API_KEY: KEY }, input: `${prompt}\n` });
    expect(r.code, r.stderr).toBe(0);
    images.push(JSON.parse(r.stdout).image);
    expect(readRun(onlyRunDir(out)).input.prompt).toBe(prompt);
    expect(lastUserMessage(server.chatRequests[0])).toContain(prompt);
  });

  it("the endpoint failing at round 2's judge step: exit 3, containers and round 1's image gone, run.json marked", async () => {
    server.enqueue(probe(), fail("print more", { files: { "probe.sh": `${PROBE}echo more\n` } }), {
      status: 401,
      error: { message: "Incorrect API key provided.", type: "invalid_request_error" },
    });
    const r = await run([]);
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ status: "error", stopReason: "error", iterations: 2 });
    const state = readRun(r.json.runDir);
    expect(state).toMatchObject({
      status: "error",
      stopReason: "error",
      progress: { iteration: 2, step: "validate" },
    });
    expect(state.legs.at(-1)).toMatchObject({ status: "error", endedAt: expect.any(String) });
    // Two images were built; only the last is kept, as the deliverable. No container is left.
    const builds = readJournal(r.json.runDir).filter((e) => e.type === "build.finished" && e.ok);
    expect(builds).toHaveLength(2);
    const left = await leftovers(state.runId);
    expect(left.containers).toBe(0);
    expect(left.images).toEqual([`azlon/${state.runId}:latest`]);
  });

  it("the engine failing while the program runs: exit 3, the container it left removed by the run's cleanup", async () => {
    let deletes = 0;
    const engine = new FaultyEngine(({ method, path }) => {
      // The engine fails to report on the program after it exited, and to remove its container.
      if (method === "GET" && /^\/containers\/[^/]+\/json$/.test(path)) return true;
      return method === "DELETE" && /^\/containers\/[^/]+$/.test(path) && ++deletes === 1;
    });
    await engine.start();
    let runId: string | null = null;
    try {
      server.enqueue(probe());
      const r = await run([], { DOCKER_HOST: engine.dockerHost });
      runId = r.json?.runDir ? readRun(r.json.runDir).runId : null;
      expect(r.code).toBe(3);
      expect(engine.failed.map((f) => f.method)).toEqual(["GET", "DELETE"]);
      expect(r.stderr).toContain("azlon: the Docker engine failed: injected fault");
      expect(r.stderr).toContain("could not remove container");
      expect(r.json).toMatchObject({ status: "error", stopReason: "error" });
      const state = readRun(r.json.runDir);
      expect(state).toMatchObject({ status: "error", stopReason: "error" });
      expect(state.legs.at(-1)).toMatchObject({ status: "error", endedAt: expect.any(String) });
      // The container the sandbox could not remove is gone: the loop's cleanup removed it.
      expect((await leftovers(state.runId)).containers).toBe(0);
      expect(deletes).toBe(2);
    } finally {
      await engine.stop();
      // Whatever an assertion above found, nothing of this run stays on the shared engine.
      if (runId) await removeLabelled(runId);
    }
  });

  it("--out naming a file is exit 2 with the cause", async () => {
    const cwd = tempDir({ "runs.txt": "not a folder" });
    const args = runArgs(server, join(cwd, "runs.txt"));
    const r = await runCli(args, { cwd, env: { OPENAI_API_KEY: KEY } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot create the run folder in ${join(cwd, "runs.txt")}: `);
    expect(r.stderr).toMatch(/\((ENOTDIR|EEXIST)\)/);
    expect(r.stderr).toContain("fix: --out must name a folder");
    expect(server.chatRequests).toHaveLength(0);
  });
});
