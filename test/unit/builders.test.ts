import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { BuildKitLog } from "../../src/sandbox/buildkit-status.js";
import { lostToRace } from "../../src/sandbox/docker-sandbox.js";
import { buildKitFeature, withoutCacheMounts } from "../../src/sandbox/dockerfile-features.js";
import { engineInfoOf } from "../../src/sandbox/engine-info.js";

describe("what only BuildKit builds (Dockerfiles as models write them today)", () => {
  it("RUN --mount for a pip or apt cache, RUN --network, COPY --link and --chmod", () => {
    expect(
      buildKitFeature(
        "FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r r.txt\n",
      ),
    ).toBe("RUN --mount");
    expect(buildKitFeature("FROM x\nRUN --network=none make\n")).toBe("RUN --network");
    expect(buildKitFeature("FROM x\nCOPY --link . /app\n")).toBe("COPY --link");
    expect(buildKitFeature("FROM x\nCOPY --chown=1000 --chmod=755 run.sh /run.sh\n")).toBe("COPY --chmod");
  });

  it("here-documents in RUN and COPY, and a # syntax= directive", () => {
    expect(buildKitFeature("FROM x\nRUN <<EOF\napt-get update\nEOF\n")).toBe("a here-document in RUN");
    expect(buildKitFeature("FROM x\nRUN python3 - <<'PY'\nprint(1)\nPY\n")).toBe("a here-document in RUN");
    expect(buildKitFeature("FROM x\nCOPY <<EOF /etc/app.conf\nport=80\nEOF\n")).toBe(
      "a here-document in COPY",
    );
    expect(buildKitFeature("# syntax=docker/dockerfile:1\nFROM x\n")).toBe("a # syntax= directive");
  });

  it("what the classic builder builds: COPY --chown, --from, a --mount inside the command, a comment", () => {
    expect(
      buildKitFeature("FROM x\nCOPY --chown=1000:1000 --from=build /a /b\nRUN echo --mount\n"),
    ).toBeNull();
    expect(
      buildKitFeature("FROM x\n# RUN --mount=type=cache,target=/c x\nRUN pip install flask\n"),
    ).toBeNull();
    expect(buildKitFeature("# escape=`\nFROM x\n")).toBeNull();
  });
});

describe("the engine's kind, from its /version", () => {
  it("leaves out cache mounts when they are all a Dockerfile needs BuildKit for: the step makes its folder, the lines stay put", () => {
    const pip =
      "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r req.txt\nCMD x\n";
    expect(withoutCacheMounts(pip)).toBe(
      "FROM python:3.12\nRUN mkdir -p /root/.cache/pip && pip install -r req.txt\nCMD x\n",
    );
    const two =
      "FROM b\nRUN --mount=type=cache,target=/a --mount=type=cache,id=x,dst=/b,sharing=locked make\n";
    expect(withoutCacheMounts(two)).toBe("FROM b\nRUN mkdir -p /a /b && make\n");
    // What is more than a cache keeps BuildKit: other mounts, a seeded cache, another feature, the exec form.
    expect(withoutCacheMounts("FROM b\nRUN --mount=type=bind,target=/s cat /s/x\n")).toBeNull();
    expect(withoutCacheMounts("FROM b\nRUN --mount=type=cache,from=deps,target=/c ls\n")).toBeNull();
    expect(
      withoutCacheMounts("FROM b\nRUN --mount=type=cache,target=/c ls\nCOPY --chmod=755 a /a\n"),
    ).toBeNull();
    expect(withoutCacheMounts('FROM b\nRUN --mount=type=cache,target=/c ["ls", "/c"]\n')).toBeNull();
    expect(withoutCacheMounts("FROM b\nRUN ls\n")).toBeNull();
  });

  it("a build that lost an image under the engine's cache lookup is the engine's race, tried again; the model's errors are not", () => {
    const failed = (cause: string | null, timedOut = false) =>
      ({
        ok: false,
        timedOut,
        cause,
        log: { text: "", totalBytes: 0, truncated: false },
        durationMs: 1,
      }) as never;
    const race = `unable to find image "sha256:${"7001b99c".repeat(8)}"`;
    expect(lostToRace(failed(race))).toBe(true);
    expect(lostToRace(failed(race, true))).toBe(false);
    expect(lostToRace(failed("The command '/bin/sh -c make' returned a non-zero code: 2"))).toBe(false);
    expect(lostToRace(failed(`pull access denied for nope; ${race}`))).toBe(false);
    expect(lostToRace(failed(null))).toBe(false);
  });

  it("Docker on Linux builds with BuildKit through its API; Podman with Buildah", () => {
    expect(
      engineInfoOf({
        Version: "20.10.24",
        ApiVersion: "1.41",
        Os: "linux",
        Components: [{ Name: "Engine" }],
      }),
    ).toEqual({
      name: "Docker",
      version: "20.10.24",
      apiVersion: "1.41",
      buildKit: true,
      hereDocuments: false,
    });
    expect(
      engineInfoOf({ Version: "24.0.7", ApiVersion: "1.43", Os: "linux", Components: [{ Name: "Engine" }] })
        .hereDocuments,
    ).toBe(true);
    expect(
      engineInfoOf({
        Version: "4.3.1",
        ApiVersion: "1.41",
        Os: "linux",
        Components: [{ Name: "Podman Engine" }],
      }),
    ).toMatchObject({ name: "Podman", buildKit: false });
    expect(
      engineInfoOf({ Version: "18.06", ApiVersion: "1.38", Components: [{ Name: "Engine" }] }).buildKit,
    ).toBe(false);
  });
});

/** A moby.buildkit.trace payload, encoded as the engine encodes it. */
function trace(message: object): string {
  const root = protobuf.Root.fromJSON({
    nested: {
      S: {
        fields: {
          vertexes: { rule: "repeated", type: "V", id: 1 },
          logs: { rule: "repeated", type: "L", id: 3 },
        },
      },
      V: {
        fields: {
          digest: { type: "string", id: 1 },
          name: { type: "string", id: 3 },
          cached: { type: "bool", id: 4 },
          started: { type: "T", id: 5 },
          completed: { type: "T", id: 6 },
          error: { type: "string", id: 7 },
        },
      },
      L: {
        fields: {
          vertex: { type: "string", id: 1 },
          stream: { type: "int64", id: 3 },
          msg: { type: "bytes", id: 4 },
        },
      },
      T: { fields: { seconds: { type: "int64", id: 1 } } },
    },
  });
  const type = root.lookupType("S");
  return Buffer.from(type.encode(type.fromObject(message)).finish()).toString("base64");
}

describe("BuildKit's progress as plain lines", () => {
  it("a step when it starts, its output, CACHED, and the error; BuildKit's internal steps are left out", () => {
    const log = new BuildKitLog();
    const t = { seconds: 1 };
    const lines = [
      ...log.lines(
        trace({ vertexes: [{ digest: "sha256:aaa", name: "[internal] load build context", started: t }] }),
      ),
      ...log.lines(
        trace({
          vertexes: [
            { digest: "sha256:bbb", name: "[1/2] FROM busybox", started: t, completed: t, cached: true },
          ],
        }),
      ),
      ...log.lines(trace({ vertexes: [{ digest: "sha256:ccc", name: "[2/2] RUN make", started: t }] })),
      ...log.lines(
        trace({
          logs: [{ vertex: "sha256:ccc", stream: 2, msg: Buffer.from("cc: error: x.h\nmake: *** [all]\n") }],
        }),
      ),
      ...log.lines(trace({ vertexes: [{ digest: "sha256:ccc", completed: t, error: "exit code: 2" }] })),
    ];
    expect(lines).toEqual([
      "#1 [1/2] FROM busybox",
      "#1 CACHED",
      "#2 [2/2] RUN make",
      "#2 cc: error: x.h",
      "#2 make: *** [all]",
      "#2 ERROR: exit code: 2",
    ]);
    expect(log.error).toBe("exit code: 2");
  });

  it("a payload that is not BuildKit's protobuf is skipped, not a crash", () => {
    expect(new BuildKitLog().lines("not base64 protobuf!!")).toEqual([]);
  });
});
