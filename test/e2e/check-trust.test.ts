import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker, docker, leftovers, removeImage } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { fail, generation, lastUserMessage, pass } from "../helpers/fake-openai.js";
import { BUSYBOX, PYTHON } from "../helpers/images.js";
import { onlyRunDir } from "../helpers/run-folder.js";
import { expectValidResult } from "../helpers/schema.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-trust-9f8e7d6c5b";
const { server, images } = loopbackModel();

async function run(extra: string[], files: Record<string, string> = {}) {
  const cwd = tempDir(files);
  const out = join(cwd, "runs");
  const result = await runCli(runArgs(server, out, extra), { cwd, env: { OPENAI_API_KEY: KEY } });
  const json = result.stdout.trim() ? JSON.parse(result.stdout) : null;
  if (json?.image) images.push(json.image);
  return { ...result, json, cwd, out, dir: existsSync(out) ? onlyRunDir(out) : null };
}

const checksJson = (dir: string, n: number) =>
  JSON.parse(readFileSync(join(dir, `iterations/${String(n).padStart(2, "0")}/checks.json`), "utf8"));

/** A Python project whose add() is wrong, with a python3 of its own in front of the real one. */
const FAKE_PYTHON = `FROM ${PYTHON}
RUN mkdir /fake && printf '#!/bin/sh\\necho "all tests passed"\\nexit 0\\n' > /fake/python3 && chmod +x /fake/python3
ENV PATH=/fake:/usr/local/bin:/usr/bin:/bin
COPY add.py /app/add.py
ENTRYPOINT ["echo", "ready"]
`;
const ADD_TEST = {
  "checks/test_add.py":
    "import sys\nsys.path.insert(0, '/azlon/project')\nfrom add import add\nassert add(2, 3) == 5, f'add(2, 3) == {add(2, 3)}'\nprint('PASS add')\n",
};

describeDocker("a check the model's build cannot forge (real engine, loopback model)", () => {
  it("a /bin/sh the build replaced with one that exits 0 runs no check: `--check false` fails, naming the file", async () => {
    const forged = `FROM ${BUSYBOX}\nRUN rm /bin/sh && printf '#!/bin/busybox sh\\nexit 0\\n' > /bin/sh && chmod +x /bin/sh\nENTRYPOINT ["echo", "hi"]\n`;
    for (const verdict of ["checks", "both"]) {
      // checks: a fix is asked for; both: the judge's pass is asked for, refused, and asked
      // again (the repair turns) while the check that did not run vetoes it.
      if (verdict === "both")
        server.enqueue(generation(forged, {}), pass(["hi"]), pass(["hi"]), pass(["hi"]));
      else server.enqueue(generation(forged, {}), fail("no", {}));
      const r = await run(["--check", "false", "--verdict", verdict, "--max-iterations", "1"]);
      expect(r.code, r.stderr).toBe(1);
      expectValidResult(r.json);
      expect(r.json.status).toBe("failed");
      expect(r.json.checks.results[0].problem).toContain("the build replaced /bin/sh");
      expect(r.json.checks.trust.shell).toEqual({ path: "/bin/sh", status: "changed" });
      expect(r.json.checks.trust.base).toBe(BUSYBOX);
      expect((await leftovers(r.json.runId)).containers).toBe(0);
      expect(server.pending).toBe(0);
    }
  });

  it("the FROM image's shell is trusted, and a command the build put in front on PATH is named in checks.trust and on the terminal", async () => {
    // The fake python3 "passes" the checks, which alone decide: no verdict is asked for.
    server.enqueue(generation(FAKE_PYTHON, { "add.py": "def add(a, b):\n    return a - b\n" }));
    const r = await run(
      [
        "--checks",
        "checks",
        "--check",
        "python3 /azlon/checks/test_add.py",
        "--verdict",
        "checks",
        "--max-iterations",
        "1",
      ],
      ADD_TEST,
    );
    expectValidResult(r.json);
    // Without a trusted image the fake python3 decides: the result says what it trusted.
    expect(r.json.checks.trust.shell.status).toBe("base");
    expect(r.json.checks.trust.commands).toEqual([
      {
        command: "python3 /azlon/checks/test_add.py",
        word: "python3",
        path: "/fake/python3",
        status: "added",
      },
    ]);
    expect(r.stderr).toContain("runs /fake/python3, which the model's build added");
    expect(r.stderr).toContain("--check-image");
  });

  it("a command whose first word the build changed (same path as in the FROM image, other content) is named in checks.trust as changed", async () => {
    // busybox's /bin/ls is a link to /bin/busybox, replaced by a file; the Python image's
    // /usr/bin/ls is a file, written over in place (same path, same mode, other bytes).
    const cases = [
      {
        base: BUSYBOX,
        file: "/bin/ls",
        build: "rm /bin/ls && printf '#!/bin/sh\\necho fake ls\\n' > /bin/ls && chmod +x /bin/ls",
      },
      { base: PYTHON, file: "/usr/bin/ls", build: "printf '#!/bin/sh\\necho fake ls\\n' > /usr/bin/ls" },
    ];
    for (const c of cases) {
      server.enqueue(generation(`FROM ${c.base}\nRUN ${c.build}\nENTRYPOINT ["echo", "hi"]\n`, {}));
      const r = await run(["--check", "ls /", "--verdict", "checks", "--max-iterations", "1"]);
      expectValidResult(r.json);
      // The fake ls "passes": the result says the check relied on a file the build changed.
      expect(r.json.checks.trust.shell.status, c.base).toBe("base");
      expect(r.json.checks.trust.commands, c.base).toEqual([
        { command: "ls /", word: "ls", path: c.file, status: "changed" },
      ]);
      expect(r.stderr).toContain(`runs ${c.file}, which the model's build changed`);
      expect(r.stderr).toContain("--check-image");
    }
  });

  it("--check-image: the same fake python3 decides nothing; the check sees the project at /azlon/project and the run at /azlon/output, and the fix passes", async () => {
    server.enqueue(
      generation(FAKE_PYTHON, { "add.py": "def add(a, b):\n    return a - b\n" }),
      fail("add subtracts", { files: { "add.py": "def add(a, b):\n    return a + b\n" } }),
    );
    const r = await run(
      [
        "--checks",
        "checks",
        "--check",
        "python3 /azlon/checks/test_add.py",
        "--check",
        'test "$(cat /azlon/output/stdout)" = ready && test "$(cat /azlon/output/exit-code)" = 0 && ! touch /azlon/project/x',
        "--check-image",
        PYTHON,
        "--verdict",
        "checks",
        "--max-iterations",
        "2",
      ],
      ADD_TEST,
    );
    expect(r.code, r.stderr).toBe(0);
    expectValidResult(r.json);
    expect(r.json.iterations).toBe(2);
    expect(r.json.checks.trust).toEqual({ checkImage: PYTHON, base: null, shell: null, commands: [] });
    const first = checksJson(r.dir as string, 1);
    expect(first.results[0].passed).toBe(false);
    expect(readFileSync(join(r.dir as string, "iterations/01/check-1.log"), "utf8")).toContain(
      "add(2, 3) == -1",
    );
    expect(first.results[1].passed).toBe(true);
    // The model was told what failed in the trusted image.
    expect(lastUserMessage(server.chatRequests[1])).toContain("add(2, 3) == -1");
    const left = await leftovers(r.json.runId);
    expect(left.containers).toBe(0);
    const volumes = await docker.listVolumes({
      filters: JSON.stringify({ label: [`azlon.run=${r.json.runId}`] }),
    });
    expect(volumes.Volumes ?? []).toEqual([]);
  });

  it("--check-image: a check reads the program's stderr and exit code under /azlon/output, and runs under the run's --memory and --pids", async () => {
    server.enqueue(
      generation(
        `FROM ${BUSYBOX}\nENTRYPOINT ["sh", "-c", "echo out; echo 'oops on stderr' >&2; exit 3"]\n`,
        {},
      ),
    );
    // Each check prints what it saw, so a failure's log says what was there instead.
    const cgroup = (v2: string, v1: string) =>
      `$(cat /sys/fs/cgroup/${v2} 2>/dev/null || cat /sys/fs/cgroup/${v1})`;
    const r = await run([
      "--check",
      'e="$(cat /azlon/output/stderr)"; echo "stderr: $e"; test "$e" = "oops on stderr"',
      "--check",
      'c="$(cat /azlon/output/exit-code)"; echo "exit-code: $c"; test "$c" = 3',
      "--check",
      `m="${cgroup("memory.max", "memory/memory.limit_in_bytes")}"; echo "memory: $m"; test "$m" = ${96 * 2 ** 20}`,
      "--check",
      `p="${cgroup("pids.max", "pids/pids.max")}"; echo "pids: $p"; test "$p" = 40`,
      "--check-image",
      BUSYBOX,
      "--memory",
      "96m",
      "--pids",
      "40",
      "--verdict",
      "checks",
      "--max-iterations",
      "1",
    ]);
    expectValidResult(r.json);
    const logs = [1, 2, 3, 4].map((n) =>
      readFileSync(join(r.dir as string, `iterations/01/check-${n}.log`), "utf8"),
    );
    expect.soft(logs[0]).toContain("stderr: oops on stderr\n");
    expect.soft(logs[1]).toContain("exit-code: 3\n");
    expect.soft(logs[2]).toContain(`memory: ${96 * 2 ** 20}\n`);
    expect.soft(logs[3]).toContain("pids: 40\n");
    expect(r.json.checks).toMatchObject({ passed: 4, total: 4, trust: { checkImage: BUSYBOX } });
    expect(r.code, r.stderr).toBe(0);
    expect((await leftovers(r.json.runId)).containers).toBe(0);
  });

  it("--check-image beside a service: the checks reach it on localhost (network none) and nothing of its image runs them", async () => {
    server.enqueue(
      generation(
        `FROM ${BUSYBOX}\nRUN mkdir /www && echo "hello from httpd" > /www/index.html && rm /bin/sh && printf '#!/bin/busybox sh\\nexit 0\\n' > /bin/sh && chmod +x /bin/sh\nENTRYPOINT ["httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/www"]\n`,
        {},
      ),
    );
    const r = await run([
      "--service",
      "--ready",
      "wget -q -O /dev/null http://127.0.0.1:8080/",
      "--check",
      "wget -q -O - http://127.0.0.1:8080/ | grep 'hello from httpd'",
      "--check",
      "test ! -e /www",
      "--check-image",
      BUSYBOX,
      "--verdict",
      "checks",
      "--max-iterations",
      "1",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.checks).toMatchObject({ passed: 2, serviceReady: true, trust: { checkImage: BUSYBOX } });
    expect((await leftovers(r.json.runId)).containers).toBe(0);
  });

  it("a service that replaces /bin/sh once running forges no check: each check runs in a fresh container of the image, beside it", async () => {
    // The image is the base's (nothing to refuse); the program swaps the shell at run time.
    const swap = `rm /bin/sh; printf '#!/bin/busybox sh\\nexit 0\\n' > /bin/sh; chmod +x /bin/sh; exec httpd -f -p 127.0.0.1:8080 -h /www`;
    server.enqueue(
      generation(
        `FROM ${BUSYBOX}\nRUN mkdir /www && echo "hello from httpd" > /www/index.html\nENTRYPOINT ["/bin/busybox", "sh", "-c", "${swap}"]\n`,
        {},
      ),
      fail("the check failed", {}),
    );
    const r = await run([
      "--service",
      "--ready",
      "wget -q -O /dev/null http://127.0.0.1:8080/",
      "--check",
      "wget -q -O - http://127.0.0.1:8080/ | grep 'hello from httpd'",
      "--check",
      "false",
      "--verdict",
      "checks",
      "--max-iterations",
      "1",
    ]);
    expect(r.code, r.stderr).toBe(1);
    // The service is reached on localhost from the check's own container; `false` fails there.
    expect(r.json.checks).toMatchObject({ passed: 1, total: 2, serviceReady: true });
    expect(r.json.checks.results[1]).toMatchObject({ command: "false", passed: false });
    expect((await leftovers(r.json.runId)).containers).toBe(0);
  });

  it("--check-image naming an image the engine does not have is a usage error before any request", async () => {
    const r = await run(["--check", "true", "--check-image", "azlon-test-no-such-image:0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("azlon-test-no-such-image:0");
    expect(server.chatRequests).toHaveLength(0);
  });

  it("--hide-checks: a fake tool that prints the held-out checks shows the model none of their lines", async () => {
    const secretLine = "assert answer() == 'the-hidden-answer-42'";
    server.enqueue(
      generation(
        `FROM ${BUSYBOX}\nRUN mkdir /fake && printf '#!/bin/sh\\ncat /azlon/checks/*\\nexit 1\\n' > /fake/python3 && chmod +x /fake/python3\nENV PATH=/fake:/bin\nENTRYPOINT ["echo", "hi"]\n`,
        {},
      ),
      fail("the check failed", {}),
    );
    const r = await run(
      [
        "--checks",
        "checks",
        "--hide-checks",
        "--check",
        "python3 /azlon/checks/test_hidden.py",
        "--verdict",
        "checks",
        "--max-iterations",
        "1",
      ],
      { "checks/test_hidden.py": `from app import answer\n${secretLine}\n` },
    );
    expect(r.code, r.stderr).toBe(1);
    const log = readFileSync(join(r.dir as string, "iterations/01/check-1.log"), "utf8");
    expect(log).toContain("[hidden check line]");
    expect(log).not.toContain("the-hidden-answer-42");
    for (const request of server.chatRequests) {
      expect(JSON.stringify(request.body)).not.toContain("the-hidden-answer-42");
    }
    expect(lastUserMessage(server.chatRequests[1])).toContain("[hidden check line]");
  });

  it("a file the image plants at /azlon/checks is a failed round the model is told of, not an engine error", async () => {
    server.enqueue(
      generation(
        `FROM ${BUSYBOX}\nRUN mkdir -p /azlon && echo x > /azlon/checks\nENTRYPOINT ["echo", "hi"]\n`,
        {},
      ),
      fail("remove the file", { dockerfile: `FROM ${BUSYBOX}\nENTRYPOINT ["echo", "hi"]\n` }),
    );
    const r = await run(
      [
        "--checks",
        "checks",
        "--check",
        "sh /azlon/checks/t.sh",
        "--verdict",
        "checks",
        "--max-iterations",
        "2",
      ],
      { "checks/t.sh": "echo PASS\n" },
    );
    expect(r.code, r.stderr).toBe(0);
    const first = checksJson(r.dir as string, 1);
    expect(first.results[0].problem).toContain("/azlon/checks");
    expect(lastUserMessage(server.chatRequests[1])).toContain("the image must leave /azlon/checks free");
  });

  it("clean --all shows a hostile label value as text: its escape sequences are written out, never sent to the terminal", async () => {
    const label = `evil-${process.pid}\u001b]0;pwned\u0007\u001b[31mred`;
    const container = await docker.createContainer({
      Image: BUSYBOX,
      Cmd: ["true"],
      Labels: { "azlon.run": label },
    });
    try {
      const cwd = tempDir();
      const r = await runCli(["clean", "--all", "--out", join(cwd, "runs")], { cwd, env: {} });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`evil-${process.pid}\\x1b]0;pwned\\x07\\x1b[31mred`);
      expect(r.stdout).not.toContain("\u001b");
      expect(r.stdout).not.toContain("\u0007");
    } finally {
      await container.remove({ force: true });
    }
  });

  it("a Dockerfile's own LABEL azlon.run loses to azlon's: the image is found by its run, and .dockerignore is honoured", async () => {
    const hostile = `evil-${process.pid}-${Date.now().toString(36)}`;
    server.enqueue(
      generation(
        `FROM ${BUSYBOX}\nLABEL azlon.run="${hostile}\\u001b[31m"\nCOPY . /app\nENTRYPOINT ["ls", "-A", "/app"]\n`,
        {
          ".dockerignore": "secret.txt\n*.log\n",
          "secret.txt": "s3cret\n",
          "debug.log": "x\n",
          "app.sh": "echo hi\n",
        },
      ),
    );
    const r = await run([
      "--check",
      "test ! -e /app/secret.txt && test ! -e /app/debug.log && test -e /app/app.sh",
      "--verdict",
      "checks",
      "--max-iterations",
      "1",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const image = await docker.getImage(r.json.image).inspect();
    expect(image.Config.Labels["azlon.run"]).toBe(r.json.runId);
    const output = readFileSync(join(r.dir as string, "iterations/01/output.log"), "utf8");
    expect(output).toContain("app.sh");
    expect(output).not.toContain("secret.txt");
    // clean --out finds the image by its run (the Dockerfile's label would have hidden it).
    const clean = await runCli(["clean", "--out", r.out, "--yes"], { cwd: r.cwd, env: {} });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain(`run ${r.json.runId} (passed`);
    expect(clean.stdout).toContain("removed 1 image");
    expect(await leftovers(r.json.runId)).toEqual({ containers: 0, images: [] });
    await expect(docker.getImage(r.json.image).inspect()).rejects.toMatchObject({ statusCode: 404 });
    // Nor is the first build's image (the Dockerfile's label on it) left where nothing finds it.
    const label = `azlon.run=${hostile}\\u001b[31m`;
    const mislabelled = await docker.listImages({ all: true, filters: JSON.stringify({ label: [label] }) });
    for (const i of mislabelled) await removeImage(i.Id);
    expect(mislabelled.map((i) => i.Id)).toEqual([]);
  });
});
