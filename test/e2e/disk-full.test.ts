import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import type { RunState } from "../../src/core/state.js";
import { Redactor } from "../../src/util/secrets.js";
import { RunFolder, writeFileAtomic } from "../../src/workspace/run-folder.js";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { generation, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { onlyRunDir } from "../helpers/run-folder.js";
import { thrown } from "../helpers/thrown.js";
import { tempDir } from "../helpers/tmp.js";
import { describeSmallDisk, smallDisk } from "../helpers/tmpfs.js";

const KEY = "sk-test-disk-full-8c7b6a";
const MiB = 2 ** 20;
const KiB = 1024;

/** Every file under a folder, by path relative to it. */
function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, base) : [full.slice(base.length + 1)];
  });
}

describeSmallDisk("a full disk under the run folder (a real tmpfs that fills up)", () => {
  it("writeFileAtomic leaves the old content and no temporary file when the new one does not fit", () => {
    const disk = smallDisk(256 * KiB);
    const path = join(disk.dir, "run.json");
    writeFileAtomic(path, '{"old": true}\n');
    disk.fill(8 * KiB);
    const error = thrown(() => writeFileAtomic(path, `${JSON.stringify({ big: "x".repeat(64 * KiB) })}\n`));
    expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
    expect(readFileSync(path, "utf8")).toBe('{"old": true}\n');
    expect(readdirSync(disk.dir).sort()).toEqual(["filler", "run.json"]);
  });

  it("a journal line that does not fit fails whole: the journal keeps whole lines", () => {
    const disk = smallDisk(256 * KiB);
    const folder = new RunFolder(disk.dir, Redactor.none());
    folder.record({ type: "warning", message: "first" });
    disk.fill(0);
    const error = thrown(() => folder.record({ type: "warning", message: "w".repeat(64 * KiB) }));
    expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
    disk.free();
    folder.record({ type: "warning", message: "after" });
    folder.close();
    const lines = readFileSync(join(disk.dir, "events.jsonl"), "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(["first", "after"]);
  });
});

const { server, images } = loopbackModel();

const hello = (extra: Record<string, string> = {}) =>
  generation(`FROM ${BUSYBOX}\nCOPY hello.sh /hello.sh\nENTRYPOINT ["sh", "/hello.sh"]\n`, {
    "hello.sh": 'echo "hello, world"\n',
    ...extra,
  });

describeDocker("a run whose disk fills up, then `azlon resume` (real engine, loopback model)", () => {
  describeSmallDisk("on a tmpfs", () => {
    /**
     * Runs azlon with its run folder on a small disk that fills up (all but `leave` bytes)
     * when the model is first asked; checks the record is whole; frees the disk; resumes.
     */
    async function fillThenResume(leave: number, task: { prompt: string; tests: string }, extra = {}) {
      const disk = smallDisk(8 * MiB);
      const out = join(disk.dir, "runs");
      server.enqueue(() => {
        disk.fill(leave);
        return hello(extra);
      });
      const cwd = tempDir();
      const first = await runCli(runArgs(server, out, [], task), { cwd, env: { OPENAI_API_KEY: KEY } });
      const dir = onlyRunDir(out);
      // Nothing half-written: no temporary file, run.json and every JSON file parse.
      const files = listFiles(dir);
      expect(files.filter((f) => f.includes(".tmp-"))).toEqual([]);
      for (const f of files.filter((f) => f.endsWith(".json"))) {
        expect(() => JSON.parse(readFileSync(join(dir, f), "utf8")), f).not.toThrow();
      }
      for (const line of readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n")) {
        expect(() => JSON.parse(line)).not.toThrow();
      }
      const state = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as RunState;
      expect(state.progress).toEqual({ iteration: 1, step: "generate" });
      // The run stops at once, as an environment problem, saying what to do.
      expect(first.code, first.stderr).toBe(3);
      expect(first.stderr).toContain("no space left");
      expect(first.stderr).toMatch(/free disk space.*then `azlon resume`/);

      disk.free();
      server.enqueue(hello(extra), pass(["hello, world"]));
      const resumed = await runCli(["resume", dir, "--json"], { cwd, env: { OPENAI_API_KEY: KEY } });
      expect(resumed.code, resumed.stderr).toBe(0);
      const json = JSON.parse(resumed.stdout);
      images.push(json.image);
      expect(json).toMatchObject({ status: "passed", iterations: 1 });
      return { first, dir, files };
    }

    it("run.json too big for what is left: the last good run.json stays, and resume finishes the run", async () => {
      // A long prompt makes run.json about 40 KiB; 16 KiB are left when the reply arrives.
      const task = {
        prompt: `a script that greets. ${"Be friendly. ".repeat(3000)}`,
        tests: "it prints hello, world",
      };
      const { files } = await fillThenResume(16 * KiB, task);
      expect(files).not.toContain("iterations/01/generation.json");
    });

    it("generation.json too big for what is left: not saved half, and resume finishes the run", async () => {
      const task = { prompt: "a script that greets", tests: "it prints hello, world" };
      const { first, files } = await fillThenResume(32 * KiB, task, { "data.txt": "d".repeat(256 * KiB) });
      expect(files).not.toContain("iterations/01/generation.json");
      expect(JSON.parse(first.stdout)).toMatchObject({ status: "error", stopReason: "error" });
    });
  });
});
