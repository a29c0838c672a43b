import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pack } from "tar-fs";
import { afterAll, expect, it } from "vitest";
import { RUNTIME_FILE, runtimeFacts } from "../../src/engine/runtime.js";
import { currentOwner } from "../../src/sandbox/owner.js";
import { probeImage } from "../../src/sandbox/probe.js";
import { describeDocker, docker, leftovers, removeLabelled } from "../helpers/docker.js";
import { BUSYBOX, PYTHON } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const runIds: string[] = [];
afterAll(async () => {
  for (const runId of runIds) await removeLabelled(runId);
});

let counter = 0;
function probe(extra: { signal?: AbortSignal; timeoutMs?: number } = {}) {
  const runId = `test-probe-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  runIds.push(runId);
  return { runId, owner: currentOwner(), signal: extra.signal ?? new AbortController().signal, ...extra };
}

/** An image of this Dockerfile, labelled with the run so that it is removed after. */
async function image(
  runId: string,
  dockerfile: string,
  name: string,
  files: Record<string, string> = {},
): Promise<string> {
  const dir = tempDir({ Dockerfile: dockerfile, "hello.txt": "hi\n", ...files });
  for (const file of Object.keys(files)) chmodSync(join(dir, file), 0o755);
  const tag = `azlon-test/${runId}:${name}`;
  const stream = await docker.buildImage(pack(dir) as unknown as NodeJS.ReadableStream, {
    t: tag,
    labels: { "azlon.run": runId },
  });
  await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve(null))),
  );
  return tag;
}

describeDocker("what the base image is, learnt for the prompt (real engine)", () => {
  it("the Python image: Debian, python3 without pip, apt-get, no locale; its probe container is gone", async () => {
    const options = probe();
    const facts = await probeImage(docker, PYTHON, options);
    expect(facts).toMatchObject({
      os: "Debian GNU/Linux 12 (bookworm)",
      probed: true,
      pip: false,
      user: null,
      locale: "",
    });
    expect(facts?.found.find((f) => f.name === "python3")?.version).toMatch(/^Python 3\.11\.\d+$/);
    expect(facts?.found.map((f) => f.name)).toContain("apt-get");
    expect(facts?.found.map((f) => f.name)).not.toContain("pip3");
    expect((await leftovers(options.runId)).containers).toBe(0);
  });

  it("busybox: BusyBox, no interpreter and no package tool", async () => {
    const options = probe();
    const facts = await probeImage(docker, BUSYBOX, options);
    expect(facts?.os).toMatch(/^BusyBox v\d/);
    expect(facts).toMatchObject({ probed: true, found: [], pip: null });
    expect((await leftovers(options.runId)).containers).toBe(0);
  });

  it("an image the engine lacks tells nothing, and starts nothing", async () => {
    const options = probe();
    expect(await probeImage(docker, "azlon-test/no-such-image:never", options)).toBeNull();
    expect((await leftovers(options.runId)).containers).toBe(0);
  });

  it("an image without a shell: what its config says (version, locale, user), and no probe claims", async () => {
    const options = probe();
    const scratch = await image(
      options.runId,
      "FROM scratch\nCOPY hello.txt /hello.txt\nENV PYTHON_VERSION=3.12.1 LANG=C.UTF-8\nUSER app\n",
      "shellless",
    );
    const facts = await probeImage(docker, scratch, options);
    expect(facts).toMatchObject({
      probed: false,
      found: [],
      pip: null,
      user: "app",
      locale: "C.UTF-8",
      versions: ["PYTHON_VERSION=3.12.1"],
    });
    expect((await leftovers(options.runId)).containers).toBe(0);
  });

  it("a probe cut short by its time limit or by Ctrl-C claims nothing it did not see", async () => {
    const options = probe({ timeoutMs: 500 });
    // An image ID of its own (one probed before in this process would be answered from memory),
    // whose python3 takes 2 s to say its version: a probe given half a second is cut short
    // however fast the engine is (a bare busybox could answer whole within a millisecond's timer).
    const fresh = await image(
      options.runId,
      `FROM ${BUSYBOX}\nLABEL azlon.test=${options.runId}\nCOPY python3 /bin/python3\n`,
      "fresh",
      { python3: "#!/bin/sh\nsleep 2\necho Python 3.0.0\n" },
    );
    expect(await probeImage(docker, fresh, options)).toMatchObject({ probed: false, found: [], os: null });
    const stopped = await probeImage(docker, fresh, {
      ...options,
      timeoutMs: 5000,
      signal: AbortSignal.abort(),
    });
    expect(stopped?.probed).toBe(false);
    // Neither was kept: the next probe of the image, given its time, finds what is there.
    expect((await probeImage(docker, fresh, { ...options, timeoutMs: 30_000 }))?.os).toMatch(/^BusyBox/);
    expect((await leftovers(options.runId)).containers).toBe(0);
  });

  it("is kept in the run folder per image ID: a resumed run is told the same, a changed image is probed again", async () => {
    const options = probe();
    const dir = tempDir();
    const first = await runtimeFacts(docker, PYTHON, dir, options);
    const cached = JSON.parse(readFileSync(join(dir, RUNTIME_FILE), "utf8"));
    expect(cached.imageId).toMatch(/^sha256:/);
    expect(cached.facts).toEqual(first);
    // What the folder holds for this image ID is what the model is told again.
    writeFileSync(join(dir, RUNTIME_FILE), JSON.stringify({ ...cached, facts: { ...first, os: "Kept OS" } }));
    expect((await runtimeFacts(docker, PYTHON, dir, options))?.os).toBe("Kept OS");
    // Another image (another ID) is not served the cached facts.
    expect((await runtimeFacts(docker, BUSYBOX, dir, options))?.os).toMatch(/^BusyBox/);
    expect(await runtimeFacts(docker, "azlon-test/no-such-image:never", dir, options)).toBeNull();
  });
});
