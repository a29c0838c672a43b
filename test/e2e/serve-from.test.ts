import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { pass } from "../helpers/fake-openai.js";
import { fingerprint, gitRepo } from "../helpers/git-repo.js";
import { BUSYBOX } from "../helpers/images.js";
import { type Served, startServe } from "../helpers/serve.js";
import { tempDir } from "../helpers/tmp.js";

const { server, images } = loopbackModel();
const started: Served[] = [];

afterEach(async () => {
  for (const s of started.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
    await s.done;
  }
});

async function serve(cwd: string, extra: string[]): Promise<Served> {
  const s = await startServe(["--out", join(cwd, "runs"), ...extra], {
    cwd,
    env: { OPENAI_API_KEY: "sk-test-serve-from-000", OPENAI_BASE_URL: server.url, AZLON_MODEL: "gpt-test" },
  });
  started.push(s);
  return s;
}

const TASK = { prompt: "fix the greeting", tests: "it prints hello, world" };

// biome-ignore lint/suspicious/noExplicitAny: tests read the API's JSON loosely
async function json(response: Response): Promise<any> {
  return response.json();
}

describeDocker("azlon serve: runs from a folder under --projects-root", () => {
  it("starts a run from a project under the root (its tree untouched, the patch in the result); refuses one outside it, a link out, and any without the flag", async () => {
    const root = tempDir();
    const project = gitRepo(
      {
        Dockerfile: `FROM ${BUSYBOX}\nCOPY . /app\nENTRYPOINT ["sh", "/app/greet.sh"]\n`,
        "greet.sh": 'echo "hello, wrld"\n',
      },
      join(root, "greet"),
    );
    const outside = tempDir({ "secret.txt": "not for the model\n" });
    symlinkSync(outside, join(root, "escape"));
    const before = fingerprint(project);
    const cwd = tempDir();
    const s = await serve(cwd, ["--projects-root", root]);
    for (const from of ["../", outside, "escape", "nope"]) {
      const refused = await s.api("/api/runs", { method: "POST", json: { ...TASK, from } });
      expect(refused.status, from).toBe(400);
      expect((await json(refused)).error.message).toMatch(/projects root/);
    }
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
    const created = await s.api("/api/runs", { method: "POST", json: { ...TASK, from: "greet" } });
    expect(created.status).toBe(202);
    const { id } = await json(created);
    let run: { status: string; result: { patch: string | null } | null } = { status: "queued", result: null };
    for (let i = 0; i < 300 && !["passed", "failed", "error"].includes(run.status); i++) {
      await new Promise((r) => setTimeout(r, 200));
      run = await json(await s.api(`/api/runs/${id}`));
    }
    expect(run.status).toBe("passed");
    const patch = readFileSync(run.result?.patch as string, "utf8");
    expect(patch).toContain('+echo "hello, world"');
    expect(fingerprint(project)).toEqual(before);
    // The page's view of the run carries the change against the snapshot.
    const shown = await json(await s.api(`/api/runs/${id}`));
    expect(shown.change.text).toContain('+echo "hello, world"');
    const image = JSON.parse(readFileSync(join(cwd, "runs", id, "run.json"), "utf8")).image;
    if (image) images.push(image);
    expect(server.chatRequests.map((r) => JSON.stringify(r.body)).join("")).not.toContain(
      "not for the model",
    );

    const plain = await serve(tempDir(), []);
    mkdirSync(join(cwd, "p"));
    writeFileSync(join(cwd, "p", "a.txt"), "a");
    const none = await plain.api("/api/runs", { method: "POST", json: { ...TASK, from: join(cwd, "p") } });
    expect(none.status).toBe(400);
    expect((await json(none)).error.message).toContain("start azlon serve with --projects-root");
  });
});
