import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { expect, it } from "vitest";
import { baseEnv, ROOT } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { fail, generation, pass } from "../helpers/fake-openai.js";
import { gitIn, gitRepo } from "../helpers/git-repo.js";
import { BUSYBOX } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

interface Action {
  inputs: Record<string, { default?: string; required?: boolean }>;
  outputs: Record<string, { value: string }>;
  runs: {
    using: string;
    steps: Array<{ id?: string; shell: string; run: string; env?: Record<string, string> }>;
  };
}

const action = load(readFileSync(join(ROOT, "action.yml"), "utf8")) as Action;
const { server, images } = loopbackModel();

/** `${{ inputs.x }}` as the runner fills it in: the given input, else its default. */
function expand(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*inputs\.([a-z-]+)\s*\}\}/g, (_m, name: string) => {
    if (!(name in action.inputs)) throw new Error(`action.yml uses an undeclared input ${name}`);
    return inputs[name] ?? action.inputs[name]?.default ?? "";
  });
}

/** Runs a script with bash as the runner does; async, so the loopback model in this process answers. */
function bash(script: string, cwd: string, env: Record<string, string>) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs the composite action's steps as the runner would: bash -eo pipefail, env per step. */
async function runAction(inputs: Record<string, string>, cwd: string) {
  for (const [name, spec] of Object.entries(action.inputs)) {
    if (spec.required && !(name in inputs)) throw new Error(`missing required input ${name}`);
  }
  const outputFile = join(cwd, "github-output");
  const summary = join(cwd, "step-summary.md");
  writeFileSync(outputFile, "");
  let last = { status: 0 as number | null, stdout: "", stderr: "" };
  for (const step of action.runs.steps) {
    const script = join(cwd, "step.sh");
    writeFileSync(script, step.run);
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v, inputs)]));
    const r = await bash(script, cwd, {
      ...baseEnv({ OPENAI_API_KEY: "sk-test-action-00112233" }),
      GITHUB_ACTION_PATH: ROOT,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_ACTIONS: "true",
      ...env,
    });
    last = r;
    if (r.status !== 0) break;
  }
  const outputs = Object.fromEntries(
    readFileSync(outputFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  return { ...last, outputs, summary };
}

describeDocker("action.yml: its steps run locally as the runner runs them", () => {
  it("is a composite action whose outputs are all written by the run step", () => {
    expect(action.runs.using).toBe("composite");
    const run = action.runs.steps.find((s) => s.id === "run");
    for (const [name, output] of Object.entries(action.outputs)) {
      expect(output.value).toBe(`\${{ steps.run.outputs.${name} }}`);
      // A key of the object the step appends to $GITHUB_OUTPUT: `status: …` or `"run-dir": …`.
      expect(run?.run).toMatch(new RegExp(`\\s("${name}"|${name}): `));
    }
  });

  it("a passing task: step outputs, JUnit and the step summary", async () => {
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "hello, world"]\n`, {}),
      pass(["hello, world"]),
    );
    const cwd = tempDir();
    const r = await runAction(
      {
        prompt: "a greeter",
        tests: "prints hello, world",
        checks: "test -x /bin/sh\n\nsh -c 'echo check two'",
        model: "gpt-test",
        "base-url": server.url,
        "max-iterations": "3",
        "max-cost": "",
      },
      cwd,
    );
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) as string);
    images.push(result.image);
    expect(r.outputs).toMatchObject({
      status: "passed",
      iterations: "1",
      image: result.image,
      "run-dir": result.runDir,
      tokens: "300",
      "cost-usd": "",
    });
    expect(result.checks).toMatchObject({ total: 2, passed: 2 });
    expect(readFileSync(join(cwd, "azlon-junit.xml"), "utf8")).toContain('tests="3" failures="0"');
    expect(readFileSync(r.summary, "utf8")).toContain("azlon: passed");
  });

  it("from the checked-out repository with a branch: outputs the patch and the branch, which holds the change", async () => {
    server.enqueue(
      {
        content: {
          plan: "fix",
          dockerfile: null,
          files: [],
          edits: [{ path: "greet.sh", search: "wrld", replace: "world" }],
          read: null,
        },
      },
      pass(["hello, world"]),
    );
    const cwd = tempDir();
    const repo = gitRepo(
      {
        Dockerfile: `FROM ${BUSYBOX}\nCOPY . /app\nENTRYPOINT ["sh", "/app/greet.sh"]\n`,
        "greet.sh": 'echo "hello, wrld"\n',
        ".gitignore": "azlon-runs/\nazlon-junit.xml\ngithub-output\nstep-summary.md\nstep.sh\n",
      },
      cwd,
    );
    const r = await runAction(
      {
        prompt: "fix the greeting",
        tests: "prints hello, world",
        from: ".",
        branch: "azlon/greeting",
        model: "gpt-test",
        "base-url": server.url,
      },
      repo,
    );
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) as string);
    images.push(result.image);
    expect(r.outputs).toMatchObject({ status: "passed", branch: "azlon/greeting", patch: result.patch });
    expect(readFileSync(r.outputs.patch as string, "utf8")).toContain('+echo "hello, world"');
    expect(gitIn(repo, ["show", "azlon/greeting:greet.sh"])).toBe('echo "hello, world"\n');
    expect(readFileSync(join(repo, "greet.sh"), "utf8")).toBe('echo "hello, wrld"\n');
  });

  it("a failing task fails the step with azlon's exit code and still sets the outputs", async () => {
    server.enqueue(generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "nope"]\n`, {}), fail("prints nope", {}));
    const cwd = tempDir();
    const r = await runAction(
      {
        prompt: "a greeter",
        tests: "prints hello",
        model: "gpt-test",
        "base-url": server.url,
        "max-iterations": "1",
      },
      cwd,
    );
    expect(r.status).toBe(1);
    expect(r.outputs.status).toBe("failed");
    if (r.outputs.image) images.push(r.outputs.image);
    expect(r.stderr).toContain("::error title=azlon failed::");
  });
});
