import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/errors.js";
import type { SourceOptions } from "../../src/core/state.js";
import { PATCH_FILE, preserveBlobs, UserProject } from "../../src/workspace/source.js";
import { listSource } from "../../src/workspace/source-list.js";
import { fingerprint, gitIn, gitRepo } from "../helpers/git-repo.js";
import { tempDir } from "../helpers/tmp.js";

function sourceOptions(dir: string, extra: Partial<SourceOptions> = {}): SourceOptions {
  return {
    dir,
    dockerfile: null,
    branch: null,
    apply: false,
    keepDockerfile: false,
    maxBytes: 200 * 2 ** 20,
    ...extra,
  };
}

/** A run folder beside the project, with the project behind it. */
function runOf(dir: string, extra: Partial<SourceOptions> = {}) {
  const runDir = tempDir();
  const workspace = join(runDir, "workspace");
  const project = new UserProject(sourceOptions(dir, extra), runDir, workspace, null);
  return { runDir, workspace, project };
}

/** What the apply step does to a file: keeps its snapshot copy, then writes it. */
async function modelWrites(runDir: string, workspace: string, files: Record<string, string | Buffer>) {
  await preserveBlobs(runDir, workspace, Object.keys(files));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(workspace, path, ".."), { recursive: true });
    writeFileSync(join(workspace, path), content);
  }
}

const signal = new AbortController().signal;
const BINARY = Buffer.from([0, 1, 2, 3, 255, 254, 0, 10, 13]);

/** A repository with work in progress: a change, an untracked file, an ignored one, a link out. */
function busyRepo(): string {
  const dir = gitRepo({
    "README.md": "# demo\n",
    "app.py": "print('hello')\n",
    "run.sh": "#!/bin/sh\necho run\n",
    ".gitignore": "*.log\nbuild/\n",
    "data.bin": "x",
  });
  chmodSync(join(dir, "run.sh"), 0o755);
  writeFileSync(join(dir, "data.bin"), BINARY);
  chmodSync(join(dir, "README.md"), 0o444); // read-only: the copy must still take edits
  gitIn(dir, ["add", "-A"]);
  gitIn(dir, ["commit", "-q", "-m", "second"]);
  writeFileSync(join(dir, "app.py"), "print('hello, wip')\n"); // uncommitted
  writeFileSync(join(dir, "notes.txt"), "todo\n"); // untracked
  writeFileSync(join(dir, "debug.log"), "noise\n"); // ignored
  mkdirSync(join(dir, "build"));
  writeFileSync(join(dir, "build/out.o"), "obj"); // ignored
  symlinkSync("/etc/passwd", join(dir, "passwd-link")); // out of the tree
  return dir;
}

describe("the snapshot of a git work tree", () => {
  it("copies tracked files as they are on disk and untracked ones .gitignore allows, modes, binaries and links too, and writes nothing of the user's", async () => {
    const dir = busyRepo();
    const before = fingerprint(dir);
    const { workspace, project } = runOf(dir);
    const record = await project.snapshot(signal);
    expect(record).toMatchObject({ kind: "git", prefix: "", branch: "main", dirty: true, files: 7 });
    expect(record.commit).toBe(gitIn(dir, ["rev-parse", "HEAD"]).trim());
    expect(readFileSync(join(workspace, "app.py"), "utf8")).toBe("print('hello, wip')\n");
    expect(readFileSync(join(workspace, "notes.txt"), "utf8")).toBe("todo\n");
    expect(existsSync(join(workspace, "debug.log"))).toBe(false);
    expect(existsSync(join(workspace, "build"))).toBe(false);
    expect(existsSync(join(workspace, ".git"))).toBe(false);
    expect(readFileSync(join(workspace, "data.bin"))).toEqual(BINARY);
    expect(lstatSync(join(workspace, "run.sh")).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(workspace, "README.md")).mode & 0o777).toBe(0o644);
    expect(lstatSync(join(workspace, "passwd-link")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(workspace, "passwd-link"))).toBe("/etc/passwd");
    expect(fingerprint(dir)).toEqual(before);
  });

  it("is clean when the working tree is HEAD", async () => {
    const dir = gitRepo({ "a.txt": "a\n" });
    const record = await runOf(dir).project.snapshot(signal);
    expect(record.dirty).toBe(false);
  });

  it("of a plain folder leaves out .git, node_modules and what its .gitignore excludes", () => {
    const dir = tempDir({
      "main.py": "x = 1\n",
      ".gitignore": "*.tmp\n",
      "junk.tmp": "j",
      "node_modules/pkg/index.js": "m",
      "lib/node_modules/x.js": "m",
      "lib/util.py": "y = 2\n",
    });
    const listing = listSource(dir, 2 ** 20);
    expect(listing.kind).toBe("folder");
    expect(listing.files.map((f) => f.path)).toEqual([".gitignore", "lib/util.py", "main.py"]);
  });
});

describe("a --from that cannot be used is refused before any request", () => {
  const refused = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as UsageError).message;
    }
    throw new Error("not refused");
  };

  it("names a folder that does not exist, or a file", () => {
    const dir = tempDir({ "f.txt": "x" });
    expect(refused(() => listSource(join(dir, "nope"), 2 ** 20))).toMatch(/nope does not exist/);
    expect(refused(() => listSource(join(dir, "f.txt"), 2 ** 20))).toMatch(/is a file, not a folder/);
  });

  it("names a project over the bound, and its largest parts", () => {
    const dir = tempDir({ "big/a.bin": "x".repeat(3000), "small.txt": "s" });
    expect(refused(() => listSource(dir, 1000))).toMatch(/over the 1000 B bound \(largest: big\/ 2.9 KiB/);
  });

  it("names a repository in the middle of a merge or a rebase", () => {
    const dir = gitRepo({ "a.txt": "a\n" });
    writeFileSync(join(dir, ".git/MERGE_HEAD"), `${gitIn(dir, ["rev-parse", "HEAD"])}`);
    expect(refused(() => listSource(dir, 2 ** 20))).toMatch(/in the middle of a merge/);
    const other = gitRepo({ "a.txt": "a\n" });
    mkdirSync(join(other, ".git/rebase-merge"));
    expect(refused(() => listSource(other, 2 ** 20))).toMatch(/in the middle of a rebase/);
  });
});

describe("the result of a --from run", () => {
  it("is a patch git apply takes on the user's tree: binary, modes, new and deleted files; no scaffolding", async () => {
    const dir = busyRepo();
    const { runDir, workspace, project } = runOf(dir);
    const record = await project.snapshot(signal);
    await modelWrites(runDir, workspace, {
      "app.py": "print('hello, world')\n",
      "data.bin": Buffer.from([9, 0, 9]),
      "src/new.py": "new = True\n",
      Dockerfile: "FROM busybox\n", // the project had none: azlon's scaffolding
    });
    chmodSync(join(workspace, "README.md"), 0o755);
    execFileSync("rm", [join(workspace, "notes.txt")]);
    const delivery = await project.deliver(record, { runId: "r1", prompt: "fix it", passed: false });
    expect(delivery.files.sort()).toEqual(["README.md", "app.py", "data.bin", "notes.txt", "src/new.py"]);
    const patch = readFileSync(join(runDir, PATCH_FILE), "utf8");
    expect(patch).toContain("GIT binary patch");
    expect(patch).toContain("new mode 100755");
    expect(patch).not.toContain("Dockerfile");
    gitIn(dir, ["apply", "--check", join(runDir, PATCH_FILE)]);
    gitIn(dir, ["apply", join(runDir, PATCH_FILE)]);
    expect(readFileSync(join(dir, "app.py"), "utf8")).toBe("print('hello, world')\n");
    expect(readFileSync(join(dir, "data.bin"))).toEqual(Buffer.from([9, 0, 9]));
    expect(existsSync(join(dir, "notes.txt"))).toBe(false);
  });

  it("keeps the Dockerfile it wrote with --keep-dockerfile, and a change to the project's own always", async () => {
    const dir = gitRepo({ "a.txt": "a\n" });
    const kept = runOf(dir, { keepDockerfile: true });
    const record = await kept.project.snapshot(signal);
    await modelWrites(kept.runDir, kept.workspace, { Dockerfile: "FROM busybox\n" });
    expect((await kept.project.deliver(record, { runId: "r", prompt: "p", passed: false })).files).toEqual([
      "Dockerfile",
    ]);
    const own = gitRepo({ Dockerfile: "FROM busybox\n" });
    const run = runOf(own);
    const ownRecord = await run.project.snapshot(signal);
    expect(ownRecord.ownDockerfile).toBe(true);
    await modelWrites(run.runDir, run.workspace, { Dockerfile: 'FROM busybox\nCMD ["true"]\n' });
    expect((await run.project.deliver(ownRecord, { runId: "r", prompt: "p", passed: false })).files).toEqual([
      "Dockerfile",
    ]);
  });

  it("--dockerfile: the named Dockerfile is built as the Dockerfile, and a change to it lands on its own path", async () => {
    const dir = gitRepo({
      Dockerfile: 'FROM busybox\nCMD ["serve"]\n',
      "docker/test.Dockerfile": 'FROM busybox\nCMD ["test"]\n',
      "a.txt": "a\n",
    });
    const { runDir, workspace, project } = runOf(dir, { dockerfile: "docker/test.Dockerfile" });
    const record = await project.snapshot(signal);
    expect(record).toMatchObject({ ownDockerfile: true, dirty: false });
    expect(readFileSync(join(workspace, "Dockerfile"), "utf8")).toBe('FROM busybox\nCMD ["test"]\n');
    expect(existsSync(join(workspace, "docker/test.Dockerfile"))).toBe(false);
    await modelWrites(runDir, workspace, { Dockerfile: 'FROM busybox\nCMD ["test", "-v"]\n' });
    const delivery = await project.deliver(record, { runId: "r", prompt: "p", passed: false });
    expect(delivery.files).toEqual(["docker/test.Dockerfile"]);
    gitIn(dir, ["apply", join(runDir, PATCH_FILE)]);
    expect(readFileSync(join(dir, "docker/test.Dockerfile"), "utf8")).toBe(
      'FROM busybox\nCMD ["test", "-v"]\n',
    );
    expect(readFileSync(join(dir, "Dockerfile"), "utf8")).toBe('FROM busybox\nCMD ["serve"]\n');
  });

  it("--branch holds the user's work in progress, then azlon's commit touching only its files; nothing else of the user's changes", async () => {
    const dir = busyRepo();
    const before = fingerprint(dir);
    const { runDir, workspace, project } = runOf(dir, { branch: "azlon/fix" });
    const record = await project.snapshot(signal);
    await modelWrites(runDir, workspace, { "app.py": "print('hello, world')\n" });
    const delivery = await project.deliver(record, {
      runId: "run-7",
      prompt: "fix the greeting\nmore",
      passed: true,
    });
    expect(delivery).toMatchObject({ branch: "azlon/fix", applied: null, note: null });
    expect(fingerprint(dir, (ref) => ref === "refs/heads/azlon/fix")).toEqual(before);
    const log = gitIn(dir, ["log", "--format=%s", "azlon/fix"]).trim().split("\n");
    expect(log).toEqual([
      "fix the greeting",
      "WIP: the uncommitted work azlon started from",
      "second",
      "first",
    ]);
    expect(gitIn(dir, ["rev-parse", "azlon/fix"]).trim()).toBe(delivery.commit);
    expect(gitIn(dir, ["diff", "--name-only", "azlon/fix~1", "azlon/fix"]).trim()).toBe("app.py");
    expect(gitIn(dir, ["diff", "--name-only", "HEAD", "azlon/fix~1"]).trim().split("\n").sort()).toEqual([
      "app.py",
      "notes.txt",
      "passwd-link",
    ]);
    expect(gitIn(dir, ["show", "azlon/fix:app.py"])).toBe("print('hello, world')\n");
    expect(gitIn(dir, ["show", "azlon/fix~1:app.py"])).toBe("print('hello, wip')\n");
    expect(gitIn(dir, ["log", "-1", "--format=%an|%B", "azlon/fix"])).toContain("azlon|fix the greeting");
  });

  it("--branch made once: a run resumed after making it keeps it; another run's branch of that name is not moved", async () => {
    const dir = gitRepo({ "a.txt": "a\n" });
    const { runDir, workspace, project } = runOf(dir, { branch: "fix" });
    const record = await project.snapshot(signal);
    await modelWrites(runDir, workspace, { "a.txt": "A\n" });
    const first = await project.deliver(record, { runId: "run-1", prompt: "p", passed: true });
    const again = await project.deliver(record, { runId: "run-1", prompt: "p", passed: true });
    expect(again).toMatchObject({ branch: "fix", commit: first.commit, note: null });
    const other = await project.deliver(record, { runId: "run-2", prompt: "p", passed: true });
    expect(other).toMatchObject({
      branch: null,
      note: "no branch was made: a branch named fix exists already",
    });
    expect(gitIn(dir, ["rev-parse", "fix"]).trim()).toBe(first.commit);
  });

  it("a passed run whose repository went away meanwhile keeps its pass and its patch, and says why no branch was made", async () => {
    const dir = gitRepo({ "a.txt": "a\n" });
    const { runDir, workspace, project } = runOf(dir, { branch: "fix" });
    const record = await project.snapshot(signal);
    await modelWrites(runDir, workspace, { "a.txt": "A\n" });
    execFileSync("rm", ["-rf", dir]);
    const delivery = await project.deliver(record, { runId: "r", prompt: "p", passed: true });
    expect(delivery.branch).toBeNull();
    expect(delivery.note).toBe(
      `no branch was made: the folder ${dir} is not there any more; the patch is ${join(runDir, PATCH_FILE)}`,
    );
    expect(readFileSync(join(runDir, PATCH_FILE), "utf8")).toContain("+A");
  });

  it("--apply writes the change only where the user has not changed the files since, and loses nothing", async () => {
    const dir = gitRepo({ "a.txt": "a\n", "b.txt": "b\n" });
    const { runDir, workspace, project } = runOf(dir, { apply: true });
    const record = await project.snapshot(signal);
    await modelWrites(runDir, workspace, { "a.txt": "A\n", "c.txt": "new\n" });
    writeFileSync(join(dir, "a.txt"), "the user's own edit\n"); // during the run
    const refused = await project.deliver(record, { runId: "r", prompt: "p", passed: true });
    expect(refused.applied).toBe(false);
    expect(refused.note).toContain("a.txt changed in");
    expect(refused.note).toContain(join(runDir, PATCH_FILE));
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("the user's own edit\n");
    expect(existsSync(join(dir, "c.txt"))).toBe(false);

    writeFileSync(join(dir, "a.txt"), "a\n");
    const index = readFileSync(join(dir, ".git/index"));
    const applied = await project.deliver(record, { runId: "r", prompt: "p", passed: true });
    expect(applied).toMatchObject({ applied: true, note: null });
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("A\n");
    expect(readFileSync(join(dir, "c.txt"), "utf8")).toBe("new\n");
    expect(readFileSync(join(dir, ".git/index"))).toEqual(index);
  });

  it("--apply and --branch write nothing to the user's tree, index or refs after a run that did not pass; the patch is still written", async () => {
    const dir = busyRepo();
    const before = fingerprint(dir);
    const { runDir, workspace, project } = runOf(dir, { apply: true, branch: "azlon/fix" });
    const record = await project.snapshot(signal);
    await modelWrites(runDir, workspace, { "app.py": "print('half done')\n", "new.txt": "new\n" });
    const delivery = await project.deliver(record, { runId: "run-9", prompt: "fix it", passed: false });
    expect(delivery).toMatchObject({
      branch: null,
      commit: null,
      applied: null,
      files: ["app.py", "new.txt"],
    });
    expect(readFileSync(join(runDir, PATCH_FILE), "utf8")).toContain("+print('half done')");
    expect(fingerprint(dir)).toEqual(before);
    expect(gitIn(dir, ["branch", "--list", "azlon/fix"]).trim()).toBe("");
  });

  it("from a folder inside a repository: paths are the repository's, so git apply takes it at the top", async () => {
    const dir = gitRepo({ "pkg/mod.py": "x = 1\n", "other/keep.py": "k\n" });
    const { runDir, workspace, project } = runOf(join(dir, "pkg"), { branch: "sub" });
    const record = await project.snapshot(signal);
    expect(record.prefix).toBe("pkg/");
    expect(existsSync(join(workspace, "mod.py"))).toBe(true);
    await modelWrites(runDir, workspace, { "mod.py": "x = 2\n" });
    await project.deliver(record, { runId: "r", prompt: "p", passed: true });
    gitIn(dir, ["apply", "--check", join(runDir, PATCH_FILE)]);
    expect(gitIn(dir, ["show", "sub:pkg/mod.py"])).toBe("x = 2\n");
    expect(gitIn(dir, ["show", "sub:other/keep.py"])).toBe("k\n");
  });
});

describe("a hostile repository", () => {
  it("runs none of the programs its config names: fsmonitor, hooks, filters, an external diff", async () => {
    const dir = gitRepo({ "a.txt": "a\n" });
    const marker = join(dir, "..", `pwned-${process.pid}-${Date.now()}`);
    const evil = join(dir, "evil.sh");
    writeFileSync(evil, `#!/bin/sh\ntouch ${marker}\ncat\n`);
    chmodSync(evil, 0o755);
    for (const hook of ["reference-transaction", "post-index-change", "pre-commit", "post-commit"]) {
      mkdirSync(join(dir, "hooks"), { recursive: true });
      writeFileSync(join(dir, "hooks", hook), `#!/bin/sh\ntouch ${marker}\n`);
      chmodSync(join(dir, "hooks", hook), 0o755);
    }
    const config = [
      "[core]",
      `\tfsmonitor = ${evil}`,
      `\thooksPath = ${join(dir, "hooks")}`,
      '[filter "evil"]',
      `\tclean = ${evil}`,
      `\tsmudge = ${evil}`,
      "\trequired = true",
      "[diff]",
      `\texternal = ${evil}`,
      '[diff "evil"]',
      `\ttextconv = ${evil}`,
      "[commit]",
      "\tgpgSign = true",
      "[gpg]",
      `\tprogram = ${evil}`,
    ].join("\n");
    writeFileSync(join(dir, ".git/config"), `${readFileSync(join(dir, ".git/config"), "utf8")}\n${config}\n`);
    writeFileSync(join(dir, ".gitattributes"), "* filter=evil diff=evil\n");
    writeFileSync(join(dir, "a.txt"), "changed\n");
    const { runDir, workspace, project } = runOf(dir, { branch: "b", apply: true });
    const record = await project.snapshot(signal);
    await modelWrites(runDir, workspace, { "a.txt": "fixed\n" });
    writeFileSync(join(dir, "a.txt"), "changed\n");
    const delivery = await project.deliver(record, { runId: "r", prompt: "p", passed: true });
    expect(delivery.branch).toBe("b");
    expect(existsSync(marker)).toBe(false);
  });
});
