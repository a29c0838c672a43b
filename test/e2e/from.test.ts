import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { type ChatBody, fail, lastUserMessage, pass } from "../helpers/fake-openai.js";
import { fingerprint, gitIn, gitRepo } from "../helpers/git-repo.js";
import { BUSYBOX } from "../helpers/images.js";
import { readJournal } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const { server, images } = loopbackModel();

const DOCKERFILE = `FROM ${BUSYBOX}\nCOPY . /app\nENTRYPOINT ["sh", "/app/greet.sh"]\n`;
const TASK = { prompt: "fix the greeting in greet.sh", tests: "it prints hello, world" };

/** The user's project: a committed greeting with a typo, and work in progress beside it. */
function project(): string {
  const dir = gitRepo({
    Dockerfile: DOCKERFILE,
    "greet.sh": 'echo "hello, wrld"\n',
    "README.md": "# greet\n",
  });
  writeFileSync(join(dir, "README.md"), "# greet\n\nwork in progress\n");
  writeFileSync(join(dir, "notes.txt"), "todo: translate\n");
  return dir;
}

async function run(from: string, extra: string[] = [], task = TASK) {
  const cwd = tempDir();
  const out = join(cwd, "runs");
  const result = await runCli(runArgs(server, out, ["--from", from, ...extra], task), {
    cwd,
    env: { OPENAI_API_KEY: "sk-test-from-000000" },
  });
  const json = result.stdout.trim() ? JSON.parse(result.stdout) : null;
  if (json?.image) images.push(json.image);
  return { ...result, json, out };
}

/** A generation that keeps the project's Dockerfile (null) and fixes the typo with an edit. */
const fixByEdit = (path = "greet.sh") => ({
  content: {
    plan: "fix the typo",
    dockerfile: null,
    files: [],
    edits: [{ path, search: "wrld", replace: "world" }],
    read: null,
  },
});

const schemaOf = (body: ChatBody | null | undefined) =>
  JSON.stringify(body?.response_format?.json_schema?.schema);

describeDocker("a run from the user's project (real engine, real git, loopback model)", () => {
  it("--branch: the project's Dockerfile kept, its tree untouched, a patch git apply takes, a branch of the work in progress and azlon's commit", async () => {
    const dir = project();
    const before = fingerprint(dir);
    server.enqueue(fixByEdit(), pass(["hello, world"]));
    const r = await run(dir, ["--branch", "azlon/greet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ status: "passed", branch: "azlon/greet", applied: null });
    // The first answer's dockerfile may be null: the project has one.
    expect(schemaOf(server.chatRequests[0]?.body)).toMatch(
      /"dockerfile":\{[^}]*"type":\["string","null"\]\}/,
    );
    const first = lastUserMessage(server.chatRequests[0]);
    expect(first).toContain("# The user's project (your starting point)");
    expect(first).toContain("greet.sh (");
    expect(readFileSync(join(r.json.runDir, "workspace/Dockerfile"), "utf8")).toBe(DOCKERFILE);
    const state = JSON.parse(readFileSync(join(r.json.runDir, "run.json"), "utf8"));
    expect(state.source).toMatchObject({
      kind: "git",
      dirty: true,
      commit: before.head,
      ownDockerfile: true,
    });
    // Nothing of the user's changed but the new branch.
    expect(fingerprint(dir, (ref) => ref === "refs/heads/azlon/greet")).toEqual(before);
    expect(r.json.patch).toBe(join(r.json.runDir, "changes.patch"));
    gitIn(dir, ["apply", "--check", r.json.patch]);
    expect(readFileSync(r.json.patch, "utf8")).toContain('+echo "hello, world"');
    expect(gitIn(dir, ["log", "--format=%s", "azlon/greet"]).trim().split("\n")).toEqual([
      "fix the greeting in greet.sh",
      "WIP: the uncommitted work azlon started from",
      "first",
    ]);
    expect(gitIn(dir, ["rev-parse", "azlon/greet"]).trim()).toBe(r.json.commit);
    expect(gitIn(dir, ["diff", "--name-only", "azlon/greet~1", "azlon/greet"]).trim()).toBe("greet.sh");
    expect(gitIn(dir, ["show", "azlon/greet~1:notes.txt"])).toBe("todo: translate\n");
    // The report shows the change against the snapshot.
    const report = await runCli(["report", r.json.runDir], { cwd: tempDir() });
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(r.json.runDir, "report.html"), "utf8");
    expect(html).toContain('<h2 id="change">Change to your project</h2>');
    expect(html).toContain('<div class="diff-row add">+echo &quot;hello, world&quot;</div>');
    expect(html).toContain('<div class="diff-row del">-echo &quot;hello, wrld&quot;</div>');
  });

  it("--apply refuses over a file the user changed during the run, writes nothing and says where the patch is; without one, it applies", async () => {
    const dir = project();
    server.enqueue(fixByEdit(), () => {
      // The user edits the same file while azlon works.
      writeFileSync(join(dir, "greet.sh"), 'echo "hi there"\n');
      return pass(["hello, world"]);
    });
    const refused = await run(dir, ["--apply"]);
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.json).toMatchObject({ status: "passed", applied: false });
    expect(readFileSync(join(dir, "greet.sh"), "utf8")).toBe('echo "hi there"\n');
    expect(refused.stderr).toContain(`greet.sh changed in ${dir} since the snapshot`);
    expect(refused.stderr).toContain(refused.json.patch);

    writeFileSync(join(dir, "greet.sh"), 'echo "hello, wrld"\n');
    const index = readFileSync(join(dir, ".git/index"));
    server.enqueue(fixByEdit(), pass(["hello, world"]));
    const applied = await run(dir, ["--apply"]);
    expect(applied.json).toMatchObject({ status: "passed", applied: true });
    expect(readFileSync(join(dir, "greet.sh"), "utf8")).toBe('echo "hello, world"\n');
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("todo: translate\n");
    expect(readFileSync(join(dir, ".git/index"))).toEqual(index);
  });

  it("a 3,000-file project is mapped, a deep file read on request (nothing built between) and fixed by an edit", async () => {
    const dir = tempDir();
    const files: Record<string, string> = {
      Dockerfile: `FROM ${BUSYBOX}\nCOPY . /app\nENTRYPOINT ["sh", "/app/src/pkg7/mod3/deep/formatter.sh"]\n`,
    };
    for (let i = 0; i < 3000; i++) {
      files[`src/pkg${i % 40}/mod${i % 9}/file${i}.txt`] = `line ${i}\n`.repeat(40);
    }
    files["src/pkg7/mod3/deep/formatter.sh"] = 'echo "hello, wrld"\n';
    files["data.bin"] = "x";
    gitRepo(files, dir);
    writeFileSync(join(dir, "data.bin"), Buffer.from([0, 1, 2, 0]));
    const before = fingerprint(dir);
    const deep = "src/pkg7/mod3/deep/formatter.sh";
    server.enqueue(
      {
        content: {
          plan: "read it first",
          dockerfile: null,
          files: [],
          edits: null,
          read: [deep, "../etc/passwd", "src/pkg7", "data.bin"],
        },
      },
      fixByEdit(deep),
      pass(["hello, world"]),
    );
    const r = await run(dir, [], {
      prompt: "fix the greeting the formatter prints",
      tests: "it prints hello, world",
    });
    expect(r.code, r.stderr).toBe(0);
    const [asked, again] = server.chatRequests;
    const first = lastUserMessage(asked);
    // The map names the deep file (its folders open first: they share the task's words).
    expect(first).toContain("formatter.sh (");
    expect(first).toMatch(/\(\d+ files?, [\d.]+ KiB\)/); // folders summarised
    const tokens = JSON.stringify(asked?.body).length / 4;
    expect(tokens).toBeLessThan(40_000);
    const second = lastUserMessage(again);
    expect(second).toContain(`# Files you asked to read\n\n<file path="${deep}">\necho "hello, wrld"`);
    expect(second).toContain("- ../etc/passwd: read refused: the path escapes the workspace");
    expect(second).toContain("- src/pkg7: read refused: it is a folder");
    expect(second).toContain("- data.bin: read refused: it is a binary file");
    const phases = readJournal(r.json.runDir)
      .filter((e) => e.type === "phase")
      .map((e) => e.phase);
    expect(phases.slice(0, 5)).toEqual(["snapshot", "generate", "read", "generate", "apply"]);
    expect(readFileSync(r.json.patch, "utf8")).toContain(`+++ b/${deep}`);
    expect(fingerprint(dir)).toEqual(before);
  });

  it("refuses before any request: a --from that does not exist, a file, a repository mid-merge, over --max-from-size, an existing --branch", async () => {
    const dir = project();
    const cases: Array<[string[], RegExp]> = [
      [["--from", join(dir, "nope")], /nope does not exist/],
      [["--from", join(dir, "greet.sh")], /is a file, not a folder/],
      [["--from", dir, "--branch", "main"], /a branch named main exists already/],
      [
        ["--from", dir, "--dockerfile", "docker/none"],
        /--dockerfile docker\/none is not a file of the project/,
      ],
      [["--branch", "x"], /--branch is for a run from your project: add --from/],
    ];
    const merging = project();
    writeFileSync(join(merging, ".git/MERGE_HEAD"), gitIn(merging, ["rev-parse", "HEAD"]));
    cases.push([["--from", merging], /in the middle of a merge/]);
    // Over the bound: the largest parts are named, so the user knows what to leave out.
    const big = project();
    mkdirSync(join(big, "assets"));
    writeFileSync(join(big, "assets/photo.bin"), Buffer.alloc(3000, 7));
    cases.push([
      ["--from", big, "--max-from-size", "1k"],
      /--from \S+ holds 3\.\d KiB of files to copy, over the 1 KiB bound \(largest: assets\/ 2\.9 KiB, Dockerfile /,
    ]);
    for (const [args, message] of cases) {
      const cwd = tempDir();
      const r = await runCli(runArgs(server, join(cwd, "runs"), args), {
        cwd,
        env: { OPENAI_API_KEY: "sk-test-from-000000" },
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(cwd, "runs"))).toBe(false);
    }
    // A config file found in the folder azlon runs in may not point it at another folder.
    const cwd = tempDir({ ".azlonrc.json": JSON.stringify({ from: dir }), "package.json": "{}" });
    const fromFile = await runCli(runArgs(server, join(cwd, "runs"), []), {
      cwd,
      env: { OPENAI_API_KEY: "sk-test-from-000000" },
    });
    expect(fromFile.code, fromFile.stderr).toBe(2);
    expect(fromFile.stderr).toContain('the config file sets "from", which only a flag may set');
    expect(server.chatRequests).toHaveLength(0);
  });

  it("resume of a --from run keeps its snapshot; a plain folder's patch leaves azlon's Dockerfile out", async () => {
    const dir = tempDir({ "greet.sh": 'echo "hello, wrld"\n', ".gitignore": "*.log\n", "x.log": "noise" });
    mkdirSync(join(dir, "node_modules"));
    writeFileSync(join(dir, "node_modules/dep.js"), "dep");
    server.enqueue(
      { content: { plan: "p", dockerfile: DOCKERFILE, files: [], edits: null, read: null } },
      fail("prints hello, wrld", { edits: [{ path: "greet.sh", search: "wrld", replace: "world" }] }),
    );
    const first = await run(dir, ["--max-iterations", "1"]);
    expect(first.code, first.stderr).toBe(1);
    expect(existsSync(join(first.json.runDir, "workspace/node_modules"))).toBe(false);
    expect(existsSync(join(first.json.runDir, "workspace/x.log"))).toBe(false);
    // A run that did not pass still leaves its patch.
    expect(readFileSync(first.json.patch, "utf8")).toBe("");
    writeFileSync(join(dir, "greet.sh"), 'echo "changed after the snapshot"\n');
    server.enqueue(pass(["hello, world"]));
    const cwd = tempDir();
    const resumed = await runCli(
      ["resume", first.json.runDir, "--max-iterations", "2", "--base-url", server.url, "--json"],
      {
        cwd,
        env: { OPENAI_API_KEY: "sk-test-from-000000" },
      },
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout);
    const patch = readFileSync(result.patch, "utf8");
    expect(patch).toContain('-echo "hello, wrld"\n+echo "hello, world"');
    expect(patch).not.toContain("Dockerfile");
    execFileSync("git", ["apply", "--check", "--unsafe-paths", result.patch], {
      cwd: tempDir({ "greet.sh": 'echo "hello, wrld"\n' }),
    });
  });
});
