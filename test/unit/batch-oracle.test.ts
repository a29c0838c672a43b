import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mapDockerfile, parseImageMap } from "../../src/batch/image-map.js";
import { loadTasks } from "../../src/batch/load.js";
import { OracleModel, oracleAnswer } from "../../src/batch/oracle.js";
import { defaultConcurrency } from "../../src/batch/plan.js";
import { ENGINE_STARTS_FROM, runOptionsForTask, taskConfig } from "../../src/batch/run-options.js";
import { DEFAULTS } from "../../src/config/defaults.js";
import type { Config } from "../../src/config/schema.js";
import type { JudgeRequest } from "../../src/core/types.js";
import { thrown, thrownAsync } from "../helpers/thrown.js";
import { tempDir } from "../helpers/tmp.js";

const images = parseImageMap(["python:3.12-slim=azlon-test-python:3.11"], undefined);
const layers = (extra: Partial<Parameters<typeof taskConfig>[1]> = {}) => ({
  base: { ...DEFAULTS } as Config,
  flags: {},
  oracle: false,
  images: new Map<string, string>(),
  ...extra,
});

describe("the image map", () => {
  it("rewrites FROM lines, keeping --platform and stage names; other images stay", () => {
    const text =
      "FROM --platform=linux/amd64 python:3.12-slim AS build\nRUN x\nfrom python:3.12-slim\nFROM busybox:latest\n";
    expect(mapDockerfile(images, text)).toBe(
      "FROM --platform=linux/amd64 azlon-test-python:3.11 AS build\nRUN x\nfrom azlon-test-python:3.11\nFROM busybox:latest\n",
    );
  });

  it("takes AZLON_IMAGE_MAP, the flags over it, and refuses what is not image=image", () => {
    const map = parseImageMap(["a:1=c:1"], "a:1=b:1, x=y");
    expect([...map]).toEqual([
      ["a:1", "c:1"],
      ["x", "y"],
    ]);
    expect(thrown(() => parseImageMap(["python"], undefined)).message).toContain(
      "is not of the form image=replacement",
    );
  });
});

describe("the oracle's answer", () => {
  it("azlon's solution/ laid over the task's project, its FROM mapped", async () => {
    const dir = tempDir({
      "fix/task.yaml": "prompt: p\ntests: t\nchecks: [sh /azlon/checks/t.sh]\n",
      "fix/checks/t.sh": "exit 0\n",
      "fix/project/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
      "fix/project/app.py": "bug\n",
      "fix/project/lib/util.py": "util\n",
      "fix/solution/app.py": "fixed\n",
    });
    const [task] = await loadTasks(join(dir, "fix"));
    const answer = oracleAnswer(task as never, images, false);
    expect(answer.dockerfile).toBe("FROM azlon-test-python:3.11\nCOPY . /app\n");
    expect(answer.files).toEqual([
      { path: "app.py", content: "fixed\n" },
      { path: "lib/util.py", content: "util\n" },
    ]);
    // With an engine that starts from the project, only the solution is sent.
    expect(oracleAnswer(task as never, images, true).files).toEqual([{ path: "app.py", content: "fixed\n" }]);
  });

  it("Harbor's solve.sh runs as the last build step, in the environment's working folder, with its env", async () => {
    const dir = tempDir({
      "h/task.toml": '[solution]\nenv = { GREETING = "hi" }\n',
      "h/instruction.md": "do it\n",
      "h/environment/Dockerfile": "FROM busybox:latest\nWORKDIR /app\nCOPY data.txt /app/\n",
      "h/environment/data.txt": "1\n",
      "h/tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n",
      "h/solution/solve.sh": "echo done > out.txt\n",
    });
    const [task] = await loadTasks(join(dir, "h"));
    const answer = oracleAnswer(task as never, images, false);
    expect(answer.dockerfile).toContain("FROM busybox:latest\nWORKDIR /app\nCOPY data.txt /app/\n");
    expect(answer.dockerfile).toContain("COPY .azlon-oracle/solution/ /solution/");
    expect(answer.dockerfile).toContain("RUN GREETING='hi' sh -c 'if command -v bash");
    expect(answer.files.map((f) => f.path)).toEqual(["data.txt", ".azlon-oracle/solution/solve.sh"]);
    // The engine starts from the environment: only the solution travels in the answer.
    expect(ENGINE_STARTS_FROM).toBe(true);
    expect(oracleAnswer(task as never, images, ENGINE_STARTS_FROM).files.map((f) => f.path)).toEqual([
      ".azlon-oracle/solution/solve.sh",
    ]);
  });

  it("a task without a reference solution, or with a binary file in it, is a usage error", async () => {
    const dir = tempDir({ "t.jsonl": '{"id": "a", "prompt": "p", "tests": "t"}\n' });
    const [task] = await loadTasks(join(dir, "t.jsonl"));
    const error = thrown(() => oracleAnswer(task as never, images, false));
    expect(error.message).toContain("--oracle needs the task's reference solution");
    expect((error as { hint?: string }).hint).toContain('add "solution"');
    const bin = tempDir({
      "s/Dockerfile": "FROM x\n",
      "s/blob.bin": "a\u0000b",
      "t.jsonl": JSON.stringify({ id: "b", prompt: "p", tests: "t", solution: "s" }),
    });
    const [withBinary] = await loadTasks(join(bin, "t.jsonl"));
    expect(thrown(() => oracleAnswer(withBinary as never, images, false)).message).toContain("is binary");
  });

  it("judges a round it is asked about as not passed, naming the failing checks; it never asks an endpoint", async () => {
    const model = new OracleModel({ plan: "p", dockerfile: "FROM x", files: [] });
    const verdict = await model.judge({
      build: { ok: true },
      checkResults: {
        service: null,
        results: [
          { passed: false, problem: "exit 1" },
          { passed: true, problem: null },
        ],
      },
    } as unknown as JudgeRequest);
    expect(verdict).toMatchObject({
      passed: false,
      reason: "the reference solution did not pass: 1 check failed (exit 1)",
    });
  });
});

describe("a task's run options (the seam the engine's `from` goes through)", () => {
  it("layers the config, the task's own options and the flags, the flags on top", async () => {
    const dir = tempDir({
      "t.jsonl":
        '{"id": "a", "prompt": "p", "tests": "t", "options": {"maxIterations": 4, "runTimeout": 9}}\n',
    });
    const [task] = await loadTasks(join(dir, "t.jsonl"));
    const config = taskConfig(
      task as never,
      layers({ base: { ...DEFAULTS, runTimeout: 1, memory: "2g" } as Config, flags: { maxIterations: 7 } }),
    );
    expect(config).toMatchObject({ maxIterations: 7, runTimeout: 9, memory: "2g" });
  });

  it("under --oracle the checks alone decide, in one round, with no model; a task without checks is refused", async () => {
    const dir = tempDir({
      "t.jsonl":
        '{"id": "a", "prompt": "p", "tests": "t", "checks": ["true"], "options": {"baseImage": "python:3.12-slim"}}\n{"id": "b", "prompt": "p", "tests": "t"}\n',
    });
    const [a, b] = await loadTasks(join(dir, "t.jsonl"));
    expect(taskConfig(a as never, layers({ oracle: true, images }))).toMatchObject({
      verdict: "checks",
      maxIterations: 1,
      model: "oracle",
      baseImage: "azlon-test-python:3.11",
    });
    expect(thrown(() => taskConfig(b as never, layers({ oracle: true }))).message).toContain(
      'the task "b" has none',
    );
  });

  it("carries each format's project to start from: jsonl from, azlon's project/, Harbor's environment/", async () => {
    const dir = tempDir({
      "list/p/Dockerfile": "FROM busybox:latest\n",
      "list/t.jsonl": '{"id": "j", "prompt": "p", "tests": "t", "from": "p"}\n',
      "tasks/az/task.yaml": "prompt: p\ntests: t\n",
      "tasks/az/project/Dockerfile": "FROM busybox:latest\n",
      "tasks/hb/task.toml": "\n",
      "tasks/hb/instruction.md": "do\n",
      "tasks/hb/environment/Dockerfile": "FROM busybox:latest\n",
      "tasks/hb/tests/test.sh": "true\n",
    });
    const tasks = [...(await loadTasks(join(dir, "list/t.jsonl"))), ...(await loadTasks(join(dir, "tasks")))];
    // The engine takes the project as the run's source: its folder, listed, the run's start.
    const froms = tasks.map((t) => runOptionsForTask(t, layers(), join(dir, "out")).options.source?.dir);
    expect(froms).toEqual([
      join(dir, "list/p"),
      join(dir, "tasks/az/project"),
      join(dir, "tasks/hb/environment"),
    ]);
  });

  it("a task whose options do not hold together is a usage error naming it", async () => {
    const dir = tempDir({
      "t.jsonl": '{"id": "a", "prompt": "p", "tests": "t", "options": {"service": true}}\n',
    });
    const [task] = await loadTasks(join(dir, "t.jsonl"));
    const error = await thrownAsync(async () => runOptionsForTask(task as never, layers(), dir));
    expect(error.message).toMatch(/^task "a" \(.*t\.jsonl line 1\): --service needs --ready/);
  });

  it("runs as many at once as the cores hold by --cpus and three quarters of the memory by --memory", () => {
    const o = (cpus: number, memoryBytes: number) => ({ limits: { cpus, memoryBytes } }) as never;
    expect(defaultConcurrency([o(1, 2 ** 30)], 8, 64 * 2 ** 30)).toBe(8);
    expect(defaultConcurrency([o(2, 2 ** 30)], 8, 64 * 2 ** 30)).toBe(4);
    expect(defaultConcurrency([o(1, 4 * 2 ** 30)], 8, 8 * 2 ** 30)).toBe(1);
    expect(defaultConcurrency([o(4, 2 ** 30)], 2, 64 * 2 ** 30)).toBe(1);
  });
});
