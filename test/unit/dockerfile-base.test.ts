import { describe, expect, it } from "vitest";
import { baseImageOf, isImageReference, runlessBases } from "../../src/sandbox/dockerfile-base.js";

describe("runlessBases: whether a build runs anything, and what it builds from", () => {
  it("a Dockerfile of COPY and settings runs nothing: its base image is named", () => {
    expect(
      runlessBases('FROM busybox:latest\nWORKDIR /app\nCOPY . .\nENV A=1\nCMD ["sh", "run.sh"]\n'),
    ).toEqual(["busybox:latest"]);
  });

  it("a RUN step anywhere (any case, a continued line, an earlier stage) runs something", () => {
    expect(runlessBases("FROM busybox\nrun echo hi\n")).toBeNull();
    expect(runlessBases("FROM busybox\nCOPY a /a\nRUN \\\n  echo hi\n")).toBeNull();
    expect(
      runlessBases(
        "FROM python:3.12-slim AS build\nRUN pip install x\nFROM busybox\nCOPY --from=build /x /x\n",
      ),
    ).toBeNull();
  });

  it("a continued line is joined as the engine joins it: a RUN split inside its keyword, across an empty or a comment line, or with the ` escape, still runs something", () => {
    // Seen on the engine: `FROM busybox`, `R\`, `UN echo hi` runs `echo hi` in the build.
    expect(runlessBases("FROM busybox\nR\\\nUN echo hi\n")).toBeNull();
    expect(runlessBases("FROM busybox\nR\\  \n\nUN echo hi\n")).toBeNull();
    expect(runlessBases("FROM busybox\nRU\\\n# a comment\n  \nN echo hi\n")).toBeNull();
    expect(runlessBases("# escape=`\nFROM busybox\nR`\nUN echo hi\n")).toBeNull();
    // Lines continued the usual way keep their words apart.
    expect(runlessBases("FROM \\\n  busybox\nCOPY a \\\n  /a\n")).toEqual(["busybox"]);
    expect(baseImageOf("FROM \\\n  busybox:1.36 \\\n  AS build\nFROM build\n")).toBe("busybox:1.36");
  });

  it("follows stage names and ARG defaults; scratch is no image; a FROM it cannot tell is not runless", () => {
    expect(
      runlessBases(
        "ARG BASE=busybox:1.36\nFROM $BASE AS files\nCOPY a /a\nFROM scratch\nCOPY --from=files /a /a\n",
      ),
    ).toEqual(["busybox:1.36"]);
    expect(runlessBases("FROM --platform=linux/amd64 busybox AS one\nFROM one\nCOPY a /a\n")).toEqual([
      "busybox",
    ]);
    expect(runlessBases("ARG BASE\nFROM $BASE\nCOPY a /a\n")).toBeNull();
    expect(runlessBases("# only a comment\n")).toBeNull();
  });

  it("an ONBUILD RUN in the Dockerfile itself runs nothing in this build (it is for images built from this one)", () => {
    expect(runlessBases("FROM busybox\nONBUILD RUN echo later\nCOPY a /a\n")).toEqual(["busybox"]);
  });

  it("a FROM that is no image name (a path, a query, an escape) is never named: the engine's API would read it as a path", () => {
    for (const name of [
      "busybox",
      "busybox:latest",
      "python:3.12-slim",
      "ghcr.io/owner/app:v1.2",
      "localhost:5000/a/b_c__d",
      `busybox@sha256:${"a".repeat(64)}`,
    ])
      expect(isImageReference(name), name).toBe(true);
    for (const name of [
      "../info",
      "..%2Finfo",
      "busybox/../../info",
      "a?b",
      "a#b",
      "Busybox",
      "a b",
      "",
      "/abs",
    ])
      expect(isImageReference(name), name).toBe(false);
    expect(runlessBases("FROM ..%2Finfo\nCOPY a /a\n")).toBeNull();
    expect(runlessBases("ARG B=../info?x=\nFROM $B\nCOPY a /a\n")).toBeNull();
    expect(baseImageOf("FROM busybox/../../containers/json\n")).toBeNull();
    // A stage's own name is no image and is followed, whatever its case.
    expect(baseImageOf("FROM busybox AS Build\nFROM Build\n")).toBe("busybox");
  });
});
