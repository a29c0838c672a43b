import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, ROOT } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { FakeDocker } from "../helpers/fake-docker.js";
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

/** The github context a step's expressions read: a push to the repository's own branch. */
const PUSH: Record<string, string> = { repository: "owner/repo" };

/**
 * `${{ inputs.x }}` as the runner fills it in: the given input, else its default; and
 * `${{ github.x.y }}` from the event's context (empty when the event has no such field).
 */
function expand(text: string, inputs: Record<string, string>, github: Record<string, string>): string {
  return text.replace(/\$\{\{\s*(inputs|github)\.([a-z_.-]+)\s*\}\}/g, (_m, root: string, name: string) => {
    if (root === "github") return github[name] ?? "";
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
async function runAction(
  inputs: Record<string, string>,
  cwd: string,
  { github = PUSH, env: extra = {} }: { github?: Record<string, string>; env?: Record<string, string> } = {},
) {
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
    const env = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v, inputs, github)]),
    );
    const r = await bash(script, cwd, {
      ...baseEnv({ OPENAI_API_KEY: "sk-test-action-00112233", ...extra }),
      GITHUB_ACTION_PATH: ROOT,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_ACTIONS: "true",
      ...env,
    });
    last = r;
    if (r.status !== 0) break;
  }
  return { ...last, outputs: readOutputs(readFileSync(outputFile, "utf8")), summary };
}

/**
 * $GITHUB_OUTPUT read as the runner reads it (actions/runner, EnvFileKeyValuePairs): lines of
 * `name=value`, or `name<<delimiter`, the value's lines, and the delimiter alone on a line.
 */
function readOutputs(text: string): Record<string, string> {
  const lines = text.split("\n");
  const outputs: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === "") continue;
    const equals = line.indexOf("=");
    const heredoc = line.indexOf("<<");
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      outputs[line.slice(0, equals)] = line.slice(equals + 1);
    } else if (heredoc > 0) {
      const delimiter = line.slice(heredoc + 2);
      const end = lines.indexOf(delimiter, i + 1);
      if (!delimiter || end < 0) throw new Error(`the runner refuses ${JSON.stringify(line)}: no delimiter`);
      outputs[line.slice(0, heredoc)] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else {
      throw new Error(`the runner refuses ${JSON.stringify(line)}: invalid format`);
    }
  }
  return outputs;
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

  it("check-image: the checks run in that image, not in the one the model's build made", async () => {
    // The project's image has a file the check image lacks: the check passes only in the latter.
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nRUN mkdir /only-in-project\nENTRYPOINT ["echo", "hi"]\n`, {}),
    );
    const cwd = tempDir();
    const r = await runAction(
      {
        prompt: "a greeter",
        tests: "prints hi",
        checks: "test ! -e /only-in-project && test -d /azlon/project",
        "check-image": BUSYBOX,
        verdict: "checks",
        model: "gpt-test",
        "base-url": server.url,
        "max-iterations": "1",
      },
      cwd,
    );
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) as string);
    images.push(result.image);
    expect(result.checks).toMatchObject({ total: 1, passed: 1, trust: { checkImage: BUSYBOX } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.outputs.status).toBe("passed");
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
  it("an output value with a newline stays one value: it cannot set another output", async () => {
    server.enqueue(generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "nope"]\n`, {}), fail("prints nope", {}));
    const cwd = tempDir();
    // A folder name is the user's, but any value could hold a newline: none may forge a status.
    const r = await runAction(
      {
        prompt: "a greeter",
        tests: "prints hello",
        model: "gpt-test",
        "base-url": server.url,
        "max-iterations": "1",
        out: "runs\nstatus=passed\nimage=forged",
      },
      cwd,
    );
    expect(r.status).toBe(1);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) as string);
    if (result.image) images.push(result.image);
    expect(result.runDir).toContain("\nstatus=passed\n");
    expect(r.outputs).toMatchObject({ status: "failed", "run-dir": result.runDir, image: result.image });
  });
});

describe("action.yml: whether the repository's config is trusted", () => {
  // The run step reaches only the endpoint (a 401 ends the run) and a stand-in engine.
  const engine = new FakeDocker();
  beforeAll(async () => {
    await engine.start();
  });
  afterAll(async () => {
    await engine.stop();
  });
  /** A checkout whose .azlonrc points the key at the loopback server. */
  const checkout = () =>
    tempDir({ "package.json": "{}", ".azlonrc": `baseUrl: ${server.url}\nmodel: gpt-test\n` });
  const inputs = { prompt: "a greeter", tests: "prints hello" };
  const FORK_PR = { repository: "owner/repo", "event.pull_request.head.repo.full_name": "someone/fork" };
  const OWN_PR = { repository: "owner/repo", "event.pull_request.head.repo.full_name": "owner/repo" };
  const UNAUTHORISED = {
    status: 401,
    error: { message: "Incorrect API key provided.", code: "invalid_api_key" },
  };

  it.each([
    ["a push", PUSH],
    ["a pull request from a branch of the repository", OWN_PR],
  ])("auto trusts it on %s: its endpoint is used", async (_, github) => {
    server.enqueue(UNAUTHORISED);
    const r = await runAction(inputs, checkout(), { github, env: { DOCKER_HOST: engine.host } });
    expect(r.status, r.stderr).toBe(3);
    expect(server.chatRequests).toHaveLength(1);
  });

  it.each([
    ["auto, on a pull request from a fork", {}, FORK_PR],
    ["trust-config: false", { "trust-config": "false" }, PUSH],
  ])("%s: it is refused and the key goes nowhere", async (_, given, github) => {
    const r = await runAction({ ...inputs, ...given }, checkout(), {
      github,
      env: { DOCKER_HOST: engine.host },
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain("--trust-config");
    expect(r.outputs.status).toBe("error");
    expect(server.requests).toEqual([]);
  });

  it("trust-config: true trusts it on a fork's pull request too (the workflow's choice)", async () => {
    server.enqueue(UNAUTHORISED);
    const r = await runAction({ ...inputs, "trust-config": "true" }, checkout(), {
      github: FORK_PR,
      env: { DOCKER_HOST: engine.host },
    });
    expect(r.status, r.stderr).toBe(3);
    expect(server.chatRequests).toHaveLength(1);
  });

  it("another value fails the step, naming the input", async () => {
    const r = await runAction({ ...inputs, "trust-config": "yes please" }, checkout());
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("trust-config must be auto, true or false");
  });
});
