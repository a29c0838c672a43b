import { chmodSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { harborVerifyCommand } from "../../src/batch/formats/harbor-verify.js";
import { parseJsonl } from "../../src/batch/formats/jsonl.js";
import { loadTasks } from "../../src/batch/load.js";
import { thrown, thrownAsync } from "../helpers/thrown.js";
import { tempDir } from "../helpers/tmp.js";

const line = (task: Record<string, unknown>) => JSON.stringify({ prompt: "p", tests: "t", ...task });

/** A Harbor task folder as public task repositories lay them out. */
function harborTask(toml: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "task.toml": toml,
    "instruction.md": "Write /app/hello.txt with Hello, world!\n",
    "environment/Dockerfile": "FROM busybox:latest\nWORKDIR /app\n",
    "tests/test.sh": "#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n",
    "solution/solve.sh": "#!/bin/bash\necho 'Hello, world!' > /app/hello.txt\n",
    ...extra,
  };
}

describe("jsonl tasks, per the mistakes a hand-written file has", () => {
  it("reads tasks with a byte-order mark, CRLF line ends and blank lines, paths from the file's folder", () => {
    const dir = tempDir({ "checks/t.sh": "exit 0\n", "proj/Dockerfile": "FROM x\n" });
    const text = `\uFEFF${line({ id: "a", checks: ["sh /azlon/checks/t.sh"], checksDir: "checks", from: "proj" })}\r\n\r\n${line({ id: "b", options: { maxIterations: 3 } })}\r\n`;
    const tasks = parseJsonl(text, join(dir, "tasks.jsonl"));
    expect(tasks.map((t) => t.id)).toEqual(["a", "b"]);
    expect(tasks[0]?.layer).toMatchObject({
      checks: ["sh /azlon/checks/t.sh"],
      checksDir: join(dir, "checks"),
    });
    expect(tasks[0]?.from).toBe(join(dir, "proj"));
    expect(tasks[1]?.layer).toEqual({ maxIterations: 3 });
    expect(tasks[1]?.source).toBe(`${join(dir, "tasks.jsonl")} line 3`);
  });

  it("names the line of a line that is not JSON, or not an object", () => {
    expect(thrown(() => parseJsonl(`${line({ id: "a" })}\n{"id": "b",\n`, "t.jsonl")).message).toMatch(
      /^t\.jsonl line 2: not a JSON object/,
    );
    expect(thrown(() => parseJsonl('["a"]\n', "t.jsonl")).message).toBe(
      "t.jsonl line 1: a task is a JSON object",
    );
  });

  it("refuses a task missing its prompt or its tests, naming the line", () => {
    expect(thrown(() => parseJsonl('{"id": "a", "tests": "t"}\n', "t.jsonl")).message).toBe(
      "t.jsonl line 1: the task is missing its prompt",
    );
    expect(thrown(() => parseJsonl('{"id": "a", "prompt": "p", "tests": "  "}\n', "t.jsonl")).message).toBe(
      "t.jsonl line 1: the task is missing its tests (empty or not text)",
    );
  });

  it("refuses ids that would be paths, and unknown keys with what a line takes", () => {
    expect(thrown(() => parseJsonl(line({ id: "../etc" }), "t.jsonl")).message).toContain(
      "cannot name a folder",
    );
    expect(thrown(() => parseJsonl(line({ id: "a/b" }), "t.jsonl")).message).toContain(
      "cannot name a folder",
    );
    expect(thrown(() => parseJsonl(line({ prompt: "p" }), "t.jsonl")).message).toContain(
      'the task has no "id"',
    );
    const unknown = thrown(() => parseJsonl(line({ id: "a", maxIterations: 3 }), "t.jsonl"));
    expect(unknown.message).toBe('t.jsonl line 1: unknown key "maxIterations"');
    expect((unknown as { hint?: string }).hint).toContain('run options go in "options"');
  });

  it("checks a task's options as config, naming the line and the key", () => {
    const error = thrown(() => parseJsonl(line({ id: "a", options: { maxIterations: 0 } }), "t.jsonl"));
    expect(error.message).toContain(
      '"maxIterations" in t.jsonl line 1 must be a whole number from 1 to 1000',
    );
    expect(thrown(() => parseJsonl(line({ id: "a", options: { out: "x" } }), "t.jsonl")).message).toContain(
      'a task cannot set "out"',
    );
    expect(
      thrown(() => parseJsonl(line({ id: "a", checks: ["x"], options: { checks: ["y"] } }), "t.jsonl"))
        .message,
    ).toContain('"checks" is given twice');
  });

  it("refuses task options that act for the task set's author: the key's endpoint, writes to your repository, a looser box", () => {
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ baseUrl: "https://collector.example/v1" }, '"baseUrl" would send your API key'],
      [{ branch: "x" }, '"branch" would write a branch'],
      [{ apply: true }, '"apply" would write into your folder'],
      [{ network: "bridge" }, '"network" would let'],
      [{ builder: "buildkit" }, '"builder" would free'],
      [{ prices: { m: { input: 0, output: 0 } } }, '"prices" would set'],
    ];
    for (const [options, message] of refused) {
      const error = thrown(() => parseJsonl(line({ id: "a", options }), "t.jsonl"));
      expect(error.message, JSON.stringify(options)).toContain(message);
      expect(error.message).toContain("t.jsonl line 1");
    }
    // What holds the box stays a task's to say.
    expect(() =>
      parseJsonl(line({ id: "a", options: { network: "none", builder: "classic" } }), "t.jsonl"),
    ).not.toThrow();
  });

  it("refuses a from or checksDir folder that is not there", () => {
    const dir = tempDir();
    expect(thrown(() => parseJsonl(line({ id: "a", from: "nope" }), join(dir, "t.jsonl"))).message).toMatch(
      /line 1: "from" .*nope cannot be read: no such file or folder/,
    );
  });

  it("keeps the paths a task names inside its folder: ../ and links out are refused (a task set from elsewhere)", async () => {
    const { symlinkSync, mkdirSync } = await import("node:fs");
    const outside = tempDir({ "secret/id_rsa": "KEY\n" });
    const dir = tempDir({ "inside/Dockerfile": "FROM x\n" });
    mkdirSync(join(dir, "tasks"));
    symlinkSync(join(outside, "secret"), join(dir, "tasks/linked"));
    const file = join(dir, "tasks/t.jsonl");
    const outOfFolder = thrown(() => parseJsonl(line({ id: "a", from: "../inside" }), file));
    expect(outOfFolder.message).toBe(
      `${file} line 1: "from" ../inside is outside the task's own folder ${join(dir, "tasks")}`,
    );
    expect(
      thrown(() => parseJsonl(line({ id: "a", checks: ["x"], checksDir: "linked" }), file)).message,
    ).toContain('"checksDir" linked is outside the task\'s own folder');
    expect(thrown(() => parseJsonl(line({ id: "a", solution: outside }), file)).message).toContain(
      "is outside",
    );
    const folder = tempDir({ "t/task.yaml": "prompt: p\ntests: t\n" });
    symlinkSync(join(outside, "secret"), join(folder, "t/project"));
    expect((await thrownAsync(() => loadTasks(join(folder, "t")))).message).toContain("project/");
  });

  it("names both lines of a duplicate id", async () => {
    const dir = tempDir({ "t.jsonl": `${line({ id: "a" })}\n${line({ id: "b" })}\n${line({ id: "a" })}\n` });
    const error = await thrownAsync(() => loadTasks(join(dir, "t.jsonl")));
    expect(error.message).toBe(
      `two tasks have the id "a": ${join(dir, "t.jsonl")} line 1 and ${join(dir, "t.jsonl")} line 3`,
    );
  });
});

describe("azlon's task folders", () => {
  it("task.yaml with checks/, project/ and solution/: its id is the folder's name", async () => {
    const dir = tempDir({
      "hello/task.yaml":
        "prompt: a greeter\ntests: it greets\nchecks:\n  - sh /azlon/checks/t.sh\noptions:\n  hideChecks: true\n",
      "hello/checks/t.sh": "exit 0\n",
      "hello/project/Dockerfile": "FROM busybox:latest\n",
      "hello/solution/greet.sh": "echo hi\n",
    });
    const [task] = await loadTasks(join(dir, "hello"));
    expect(task).toMatchObject({
      id: "hello",
      format: "azlon",
      prompt: "a greeter",
      from: join(dir, "hello/project"),
      solution: { kind: "project", dir: join(dir, "hello/solution") },
      layer: { checks: ["sh /azlon/checks/t.sh"], checksDir: join(dir, "hello/checks"), hideChecks: true },
    });
  });

  it("refuses an id in task.yaml (the folder names the task), bad YAML, and a missing prompt", async () => {
    const dir = tempDir({
      "a/task.yaml": "id: other\nprompt: p\ntests: t\n",
      "b/task.yaml": "prompt: [unclosed\n",
      "c/task.yaml": "tests: t\n",
    });
    const a = await thrownAsync(() => loadTasks(join(dir, "a")));
    expect(a.message).toContain('unknown key "id"');
    expect((a as { hint?: string }).hint).toContain("a task folder's id is its name");
    expect((await thrownAsync(() => loadTasks(join(dir, "b")))).message).toContain("is not valid YAML");
    expect((await thrownAsync(() => loadTasks(join(dir, "c")))).message).toBe(
      `${join(dir, "c")}: the task is missing its prompt`,
    );
  });
});

describe("Harbor task folders, as public task repositories lay them out", () => {
  it("reads instruction.md, task.toml's limits (memory_mb, allow_internet = false), environment/, tests/ and solve.sh", async () => {
    const dir = tempDir(
      harborTask(
        'version = "1.0"\n[metadata]\ndifficulty = "easy"\n[verifier]\ntimeout_sec = 120.0\n[agent]\ntimeout_sec = 600.0\n[environment]\nbuild_timeout_sec = 900.0\ncpus = 2\nmemory_mb = 4096\nstorage_mb = 10240\nallow_internet = false\nworkdir = "/app"\n',
      ),
    );
    const [task] = await loadTasks(dir);
    expect(task?.format).toBe("harbor");
    expect(task?.prompt).toBe("Write /app/hello.txt with Hello, world!");
    expect(task?.from).toBe(join(dir, "environment"));
    expect(task?.layer).toMatchObject({
      checksDir: join(dir, "tests"),
      hideChecks: true,
      verdict: "checks",
      network: "none",
      checkTimeout: 120,
      maxTime: 600,
      buildTimeout: 900,
      cpus: 2,
      memory: "4096m",
    });
    expect(task?.layer.checks).toEqual([harborVerifyCommand()]);
    expect(task?.solution).toMatchObject({
      kind: "script",
      script: "solve.sh",
      dockerfile: "FROM busybox:latest\nWORKDIR /app\n",
    });
  });

  it("takes schema 1.1's [task] section, the older memory = \"2G\", network_mode, and the verifier's env", async () => {
    const dir = tempDir(
      harborTask(
        'schema_version = "1.1"\n[task]\nname = "org/hello"\nauthors = [{ name = "A", email = "a@example.com" }]\n[verifier]\nenv = { API_MODE = "it\'s local" }\n[environment]\nmemory = "2G"\nnetwork_mode = "public"\n',
      ),
    );
    const [task] = await loadTasks(dir);
    // Harbor allows the internet by default; a task from elsewhere may not open azlon's box.
    expect(task?.layer).toMatchObject({ memory: "2G" });
    expect(task?.layer.network).toBeUndefined();
    expect(task?.layer.checks?.[0]).toContain("export API_MODE='it'\\''s local'");
  });

  it("takes a prebuilt docker_image without environment/Dockerfile, and refuses a compose environment", async () => {
    const prebuilt = tempDir(harborTask('[environment]\ndocker_image = "busybox:latest"\n', {}));
    const { rmSync } = await import("node:fs");
    rmSync(join(prebuilt, "environment"), { recursive: true });
    const [task] = await loadTasks(prebuilt);
    expect(task?.layer.baseImage).toBe("busybox:latest");
    expect(task?.from).toBeNull();
    const compose = tempDir(
      harborTask("[metadata]\n", { "environment/docker-compose.yaml": "services: {}\n" }),
    );
    rmSync(join(compose, "environment/Dockerfile"));
    expect((await thrownAsync(() => loadTasks(compose))).message).toContain("docker-compose file");
  });

  it("an unreadable task.toml is a usage error naming the folder and the line", async () => {
    const dir = tempDir(harborTask('[verifier]\ntimeout_sec = 120.0\n[agent\ntimeout_sec = "x"\n'));
    const error = await thrownAsync(() => loadTasks(dir));
    expect(error.message).toMatch(new RegExp(`^${dir}: task\\.toml cannot be read \\(line 3`));
    const types = tempDir(harborTask('[environment]\ncpus = "two"\n'));
    expect((await thrownAsync(() => loadTasks(types))).message).toContain("task.toml has environment.cpus");
    const locked = tempDir(harborTask("[metadata]\n"));
    chmodSync(join(locked, "task.toml"), 0o000);
    if (process.getuid?.() !== 0) {
      expect((await thrownAsync(() => loadTasks(locked))).message).toContain("permission denied");
    }
  });

  it("refuses a Harbor task missing its prompt or its tests", async () => {
    const noPrompt = tempDir(harborTask("[metadata]\n", { "instruction.md": "  \n" }));
    expect((await thrownAsync(() => loadTasks(noPrompt))).message).toBe(
      `${noPrompt}: the task is missing its prompt: instruction.md is empty`,
    );
    const noTests = tempDir({ ...harborTask("[metadata]\n") });
    const { rmSync } = await import("node:fs");
    rmSync(join(noTests, "tests"), { recursive: true });
    expect((await thrownAsync(() => loadTasks(noTests))).message).toBe(
      `${noTests}: the task is missing its tests: tests/test.sh`,
    );
  });
});

describe("a folder of task folders", () => {
  it("reads each, in name order, leaving out names that start with . or _, and azlon's own batch folders", async () => {
    const dir = tempDir({
      ...Object.fromEntries(Object.entries(harborTask("[metadata]\n")).map(([k, v]) => [`zeta/${k}`, v])),
      "alpha/task.yaml": "prompt: p\ntests: t\n",
      "_shared/notes.txt": "not a task\n",
      ".git/HEAD": "ref\n",
      // azlon's own output beside the tasks: a batch run from this folder writes there.
      "azlon-batches/alpha/batch.json": "{}\n",
      "my-out/batch.json": "{}\n",
    });
    const tasks = await loadTasks(dir);
    expect(tasks.map((t) => [t.id, t.format])).toEqual([
      ["alpha", "azlon"],
      ["zeta", "harbor"],
    ]);
  });

  it("refuses a folder that is no task, one with both formats, and a folder with none", async () => {
    const stray = tempDir({ "a/task.yaml": "prompt: p\ntests: t\n", "b/README.md": "x\n" });
    const error = await thrownAsync(() => loadTasks(stray));
    expect(error.message).toBe(
      `${join(stray, "b")} is not a task folder: it has no task.yaml (azlon's) and no task.toml or instruction.md (Harbor's)`,
    );
    const both = tempDir({ "a/task.yaml": "prompt: p\ntests: t\n", "a/task.toml": "\n" });
    expect((await thrownAsync(() => loadTasks(both))).message).toContain("holds both task.yaml");
    expect((await thrownAsync(() => loadTasks(tempDir()))).message).toContain("no tasks in");
  });
});
