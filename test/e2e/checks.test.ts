import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runCli, spawnCli } from "../helpers/cli.js";
import { describeDocker, docker, leftovers } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { fail, generation, lastUserMessage, pass } from "../helpers/fake-openai.js";
import { BUSYBOX, PYTHON } from "../helpers/images.js";
import { onlyRunDir, readJournal } from "../helpers/run-folder.js";
import { expectValidResult } from "../helpers/schema.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-checks-5e4d3c2b1a";
const { server, images } = loopbackModel();

/** A project whose program prints the contents of /greeting.txt. */
const greeter = (greeting: string, extraDockerfile = "") =>
  generation(
    `FROM ${BUSYBOX}\nCOPY greeting.txt /greeting.txt\n${extraDockerfile}ENTRYPOINT ["cat", "/greeting.txt"]\n`,
    { "greeting.txt": `${greeting}\n` },
  );

/** The user's check: the greeting must be exactly "hello, world". */
const CHECKS = {
  "test_greeting.sh":
    'got=$(cat /greeting.txt)\nif [ "$got" = "hello, world" ]; then echo "PASS greeting"; else echo "FAIL greeting: got $got"; exit 1; fi\n',
};

async function run(
  extra: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = CHECKS,
) {
  const cwd = tempDir({ ...Object.fromEntries(Object.entries(files).map(([k, v]) => [`checks/${k}`, v])) });
  const out = join(cwd, "runs");
  const result = await runCli(runArgs(server, out, extra), { cwd, env: { OPENAI_API_KEY: KEY, ...env } });
  const json = result.stdout.trim() ? JSON.parse(result.stdout) : null;
  if (json?.image) images.push(json.image);
  return { ...result, json, cwd, out, dir: existsSync(out) ? onlyRunDir(out) : null };
}

describeDocker("checks decide, the judge advises (real engine, loopback model)", () => {
  it("a failing check vetoes the judge's proven pass, is fed back, and the fix passes; JUnit and summary are written", async () => {
    server.enqueue(
      greeter("hello, wrld"),
      // Proven by the program's output, but the user's check fails: refused.
      pass(["hello, wrld"]),
      fail("the check wants hello, world", { files: { "greeting.txt": "hello, world\n" } }, [
        "FAIL greeting: got hello, wrld",
      ]),
      pass(["hello, world", "PASS greeting"]),
    );
    const r = await run(
      ["--check", "sh /azlon/checks/test_greeting.sh", "--checks", "checks", "--junit", "out/junit.xml"],
      { GITHUB_STEP_SUMMARY: "summary.md", GITHUB_ACTIONS: "true" },
    );
    expect(r.code, r.stderr).toBe(0);
    expectValidResult(r.json);
    expect(r.json).toMatchObject({
      status: "passed",
      iterations: 2,
      verdict: "both",
      checks: { total: 1, passed: 1, failed: 0 },
      evidence: ["hello, world", "PASS greeting"],
    });
    // The judge saw the check fail beside the program's output, and was told of the veto.
    const judged = lastUserMessage(server.chatRequests[1]);
    expect(judged).toContain("FAIL greeting: got hello, wrld");
    expect(judged).toContain("`sh /azlon/checks/test_greeting.sh`: FAILED (exit 1)");
    expect(lastUserMessage(server.chatRequests[2])).toContain("cannot pass while a check fails");
    // The model was shown the user's check file in the generation prompt.
    expect(lastUserMessage(server.chatRequests[0])).toContain("FAIL greeting: got $got");
    const dir = r.dir as string;
    const checks1 = JSON.parse(readFileSync(join(dir, "iterations/01/checks.json"), "utf8"));
    expect(checks1.results[0]).toMatchObject({ exitCode: 1, passed: false, problem: "exit 1" });
    expect(readFileSync(join(dir, "iterations/01/check-1.log"), "utf8")).toBe(
      "FAIL greeting: got hello, wrld\n",
    );
    expect(readJournal(dir).filter((e) => e.type === "checks.finished")).toHaveLength(2);
    const junit = readFileSync(join(r.cwd, "out/junit.xml"), "utf8");
    expect(junit).toContain('<testsuites name="azlon" tests="2" failures="0" errors="0"');
    expect(junit).toContain('name="sh /azlon/checks/test_greeting.sh"');
    const summary = readFileSync(join(r.cwd, "summary.md"), "utf8");
    expect(summary).toContain("azlon: passed after 2 iterations");
    expect(summary).toContain("Checks: 1 of 1 passed");
    expect(r.stderr).toContain("::notice title=azlon passed::");
    expect((await leftovers(r.json.runId)).containers).toBe(0);
  });

  it("a model-planted /azlon/checks file is overwritten by the user's folder, and a planted extra file is not there", async () => {
    server.enqueue(
      greeter(
        "hello, wrld",
        "RUN mkdir -p /azlon/checks && printf 'echo planted; exit 0\\n' > /azlon/checks/test_greeting.sh && echo 'skip everything' > /azlon/checks/conftest.py\n",
      ),
      fail("the check fails", {}, []),
    );
    const r = await run(
      [
        "--check",
        "sh /azlon/checks/test_greeting.sh",
        "--check",
        "ls -A /azlon/checks",
        "--checks",
        "checks",
        "--verdict",
        "checks",
        "--max-iterations",
        "1",
        "--junit",
        "junit.xml",
      ],
      { GITHUB_STEP_SUMMARY: "summary.md" },
    );
    expect(r.code, r.stderr).toBe(1);
    const summary = readFileSync(join(r.cwd, "summary.md"), "utf8");
    expect(summary).toContain("azlon: failed after 1 iteration");
    expect(summary).toContain("❌ exit 1");
    expectValidResult(r.json);
    expect(r.json).toMatchObject({ status: "failed", checks: { passed: 1, failed: 1 } });
    const log = readFileSync(join(r.dir as string, "iterations/01/check-1.log"), "utf8");
    expect(log).toContain("FAIL greeting: got hello, wrld");
    expect(log).not.toContain("planted");
    // Nothing the image put there is beside the user's files: /azlon/checks is a fresh volume.
    const listing = readFileSync(join(r.dir as string, "iterations/01/check-2.log"), "utf8");
    expect(listing.trim().split("\n")).toEqual(["test_greeting.sh"]);
    // The volumes go with their containers.
    const volumes = await docker.listVolumes({
      filters: JSON.stringify({ label: [`azlon.run=${r.json.runId}`] }),
    });
    expect(volumes.Volumes ?? []).toEqual([]);
    const junit = readFileSync(join(r.cwd, "junit.xml"), "utf8");
    expect(junit).toContain('<failure message="exit 1">FAIL greeting: got hello, wrld');
    expect(junit).toContain('failures="2"'); // the failing check and the verdict
  });

  it("a busybox httpd service becomes ready and is checked over loopback with network none", async () => {
    server.enqueue(
      generation(
        `FROM ${BUSYBOX}\nRUN mkdir /www && echo "hello from httpd" > /www/index.html\nENTRYPOINT ["httpd", "-f", "-v", "-p", "127.0.0.1:8080", "-h", "/www"]\n`,
        {},
      ),
    );
    const r = await run(
      [
        "--service",
        "--ready",
        "wget -q -O /dev/null http://127.0.0.1:8080/",
        "--check",
        "wget -q -O - http://127.0.0.1:8080/ | grep 'hello from httpd'",
        "--verdict",
        "checks",
        "--network",
        "none",
      ],
      {},
      {},
    );
    expect(r.code, r.stderr).toBe(0);
    expectValidResult(r.json);
    expect(r.json).toMatchObject({
      status: "passed",
      verdict: "checks",
      checks: { serviceReady: true, passed: 1 },
    });
    expect(server.chatRequests).toHaveLength(1); // the checks decided: no judge call
    const checks = JSON.parse(readFileSync(join(r.dir as string, "iterations/01/checks.json"), "utf8"));
    expect(checks.service.ready).toBe(true);
    expect(checks.results[0].output.text).toContain("hello from httpd");
    expect((await leftovers(r.json.runId)).containers).toBe(0);
  });

  it("a service that never becomes ready ends the round as not ready, with its output", async () => {
    server.enqueue(
      generation(
        `FROM ${BUSYBOX}\nENTRYPOINT ["sh", "-c", "echo starting on the wrong port; sleep 600"]\n`,
        {},
      ),
      fail("listen on 8080", {}),
    );
    const r = await run(
      [
        "--service",
        "--ready",
        "wget -q -O /dev/null http://127.0.0.1:8080/",
        "--ready-timeout",
        "7",
        "--check",
        "true",
        "--max-iterations",
        "1",
      ],
      {},
      {},
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.json.checks.serviceReady).toBe(false);
    const judged = lastUserMessage(server.chatRequests[1]);
    expect(judged).toContain("The service did NOT become ready: not ready after 7.0 s");
    // A dozen polls leave no pile of listeners behind (Node warns of a leak past ten).
    expect(r.stderr).not.toContain("memory leak");
    expect(judged).toContain("starting on the wrong port");
    expect(judged).toContain("[azlon: the service was stopped after its checks]");
    expect(judged).not.toContain("killed by");
    expect((await leftovers(r.json.runId)).containers).toBe(0);
  });

  it("a service that exits before it is ready ends the round at once, with its exit code and output", async () => {
    server.enqueue(
      generation(`FROM ${BUSYBOX}\nENTRYPOINT ["sh", "-c", "echo no config file; exit 3"]\n`, {}),
      fail("write the config file", {}),
    );
    const started = Date.now();
    const r = await run(
      [
        "--service",
        "--ready",
        "wget -q -O /dev/null http://127.0.0.1:8080/",
        "--ready-timeout",
        "60",
        "--check",
        "true",
        "--max-iterations",
        "1",
      ],
      {},
      {},
    );
    expect(r.code, r.stderr).toBe(1);
    // Not the 60 s readiness wait: the exit ends it.
    expect(Date.now() - started).toBeLessThan(40_000);
    expect(r.json.checks.serviceReady).toBe(false);
    const judged = lastUserMessage(server.chatRequests[1]);
    expect(judged).toContain("the service exited with 3 before it was ready");
    expect(judged).toContain("no config file");
    expect((await leftovers(r.json.runId)).containers).toBe(0);
  });

  it("a check that is not found or times out is a failed check with a clear reason, not an azlon error", async () => {
    server.enqueue(greeter("hello, world"), fail("fix the checks' needs", {}));
    const r = await run([
      "--check",
      "no-such-test-runner --all",
      "--check",
      "sleep 30",
      "--check-timeout",
      "1",
      "--max-iterations",
      "1",
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json.status).toBe("failed");
    expect(r.json.checks.results.map((c: { problem: string }) => c.problem)).toEqual([
      "command not found (exit 127)",
      "timed out after 1.0 s",
    ]);
  });

  it("--checks that does not exist is a usage error before any token is spent", async () => {
    const r = await run(["--check", "true", "--checks", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("does not exist");
    expect(r.json).toMatchObject({ status: "error", errorCategory: "usage" });
    expectValidResult(r.json);
    expect(server.requests).toHaveLength(0);
  });

  it("--base-image and --checks-need: the model is told the image's OS, its Python without pip, and what the held-out checks need", async () => {
    server.enqueue(
      generation(`FROM ${PYTHON}\nENTRYPOINT ["python3", "-c", "print('hello, world')"]\n`, {}),
      pass(["hello, world", "PASS greeting"]),
    );
    const r = await run(
      [
        "--base-image",
        PYTHON,
        "--check",
        "sh /azlon/checks/test_greeting.sh",
        "--checks",
        "checks",
        "--hide-checks",
        "--checks-need",
        "python3 and PyYAML",
      ],
      {},
      { "test_greeting.sh": 'echo "PASS greeting"\n' },
    );
    expect(r.code, r.stderr).toBe(0);
    const [generate, judge] = server.chatRequests;
    for (const request of [generate, judge]) {
      const system = request?.body?.messages[0]?.content ?? "";
      expect(system).toContain(`Base image: use \`FROM ${PYTHON}\``);
      expect(system).toMatch(
        /In it, azlon found: Debian GNU\/Linux 12 \(bookworm\) on \w+; python3 \(Python 3\.11\.\d+\) without pip; package tool: apt-get; no LANG or LC_ALL set\./,
      );
      const user = lastUserMessage(request);
      expect(user).toContain("Give the image what the checks need (the user says: python3 and PyYAML).");
      expect(user).not.toContain('echo "PASS greeting"');
    }
    // What the model was told is kept with the run, so a resumed run tells it the same.
    const runtime = JSON.parse(readFileSync(join(r.dir as string, "runtime.json"), "utf8"));
    expect(runtime.facts).toMatchObject({ os: "Debian GNU/Linux 12 (bookworm)", pip: false });
    expect((await leftovers(r.json.runId)).containers).toBe(0);
  });

  it("--hide-checks shows the model the names but not the contents; an interrupted run still writes JUnit", async () => {
    server.enqueue(generation(`FROM ${BUSYBOX}\nENTRYPOINT ["sh", "-c", "echo waiting; sleep 600"]\n`, {}));
    const cwd = tempDir({ "checks/test_secret.sh": "echo held-out-assertion-42\n" });
    const out = join(cwd, "runs");
    const { child, done } = spawnCli(
      runArgs(server, out, [
        "--check",
        "sh /azlon/checks/test_secret.sh",
        "--checks",
        "checks",
        "--hide-checks",
        "--junit",
        "junit.xml",
      ]),
      {
        cwd,
        env: { OPENAI_API_KEY: KEY, GITHUB_STEP_SUMMARY: join(cwd, "summary.md") },
        onStderr: (text, proc) => {
          if (text.includes("running the program") && !proc.killed) proc.kill("SIGINT");
        },
      },
    );
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    void child;
    const json = JSON.parse(r.stdout);
    if (json.image) images.push(json.image);
    const prompt = lastUserMessage(server.chatRequests[0]);
    expect(prompt).toContain("test_secret.sh");
    expect(prompt).not.toContain("held-out-assertion-42");
    const junit = readFileSync(join(cwd, "junit.xml"), "utf8");
    expect(junit).toContain('<error message="interrupted');
    expect(junit).toContain("<skipped");
    expect(readFileSync(join(cwd, "summary.md"), "utf8")).toContain("azlon: interrupted");
  });
});
