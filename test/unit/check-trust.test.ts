import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerignoreFilter } from "../../src/sandbox/build-context.js";
import { commandWord } from "../../src/sandbox/check-trust.js";
import { baseImageOf } from "../../src/sandbox/dockerfile-base.js";
import { shownAsText } from "../../src/util/terminal.js";
import { tempDir } from "../helpers/tmp.js";

describe("the FROM image a check's files are compared with (Dockerfiles models write)", () => {
  it("a plain FROM, with a tag, a digest or a platform flag", () => {
    expect(baseImageOf('FROM busybox:latest\nCMD ["true"]\n')).toBe("busybox:latest");
    expect(baseImageOf("from python:3.12-slim\n")).toBe("python:3.12-slim");
    expect(baseImageOf("FROM --platform=linux/amd64 python@sha256:abc\n")).toBe("python@sha256:abc");
  });

  it("a multi-stage build: the final stage's base, through stage names (any case)", () => {
    const dockerfile = "FROM python:3.12 AS Build\nRUN make\nFROM build AS final\nFROM final\nCOPY . /app\n";
    expect(baseImageOf(dockerfile)).toBe("python:3.12");
    expect(baseImageOf("FROM python:3.12 AS build\nFROM busybox:latest\nCOPY --from=build /x /x\n")).toBe(
      "busybox:latest",
    );
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile text, not a template
  it("ARG defaults before the first FROM, in $NAME, ${NAME} and ${NAME:-default} forms", () => {
    expect(baseImageOf("ARG BASE=busybox:latest\nFROM $BASE\n")).toBe("busybox:latest");
    const braced = ['ARG TAG="3.12"\nFROM python:$', "{TAG}-slim\n"].join("");
    expect(baseImageOf(braced)).toBe("python:3.12-slim");
    expect(baseImageOf(["ARG BASE\nFROM $", "{BASE:-alpine:3}\n"].join(""))).toBe("alpine:3");
  });

  it("cannot be told: no FROM, or an ARG without a default (the comparison is then refused)", () => {
    expect(baseImageOf("RUN true\n")).toBeNull();
    expect(baseImageOf("ARG BASE\nFROM $BASE\n")).toBeNull();
  });

  it("comments, continued lines and an ARG after FROM (which does not change FROM) are read as the builder reads them", () => {
    expect(baseImageOf("# FROM evil\nFROM \\\n  busybox:latest\n")).toBe("busybox:latest");
    expect(baseImageOf("FROM busybox:latest\nARG X=evil\n")).toBe("busybox:latest");
    expect(baseImageOf("FROM scratch\nCOPY app /app\n")).toBe("scratch");
  });
});

describe("the command a check runs first (what the image's PATH resolves)", () => {
  it("the first word; assignments before it skipped; a path kept as it is", () => {
    expect(commandWord("python3 /azlon/checks/test.py")).toBe("python3");
    expect(commandWord("  PYTHONPATH=/app LANG=C.UTF-8 pytest -q")).toBe("pytest");
    expect(commandWord("/usr/local/bin/node test.js")).toBe("/usr/local/bin/node");
    expect(commandWord("./run-tests.sh")).toBe("./run-tests.sh");
  });

  it("shell words are the shell's own: cd, test, [, a subshell", () => {
    expect(commandWord("cd /app && python3 -m pytest")).toBe("cd");
    expect(commandWord("[ -f /app/out.txt ]")).toBe("[");
    expect(commandWord("(python3 t.py)")).toBe("python3");
    expect(commandWord("   ")).toBeNull();
  });
});

describe(".dockerignore, as docker build reads it", () => {
  function context(dockerignore: string): string {
    const dir = tempDir();
    writeFileSync(join(dir, ".dockerignore"), dockerignore);
    mkdirSync(join(dir, "secrets"));
    mkdirSync(join(dir, "src"));
    return dir;
  }

  it("leaves out what it names, keeps the rest; the Dockerfile and .dockerignore always go", () => {
    const ignored = dockerignoreFilter(
      context("secret.txt\n*.log\n# a comment\nDockerfile\n.dockerignore\n"),
    );
    expect(ignored).not.toBeNull();
    const f = ignored as (p: string, d: boolean) => boolean;
    expect(f("secret.txt", false)).toBe(true);
    expect(f("build.log", false)).toBe(true);
    // Docker's * does not cross a folder: src/x.log stays (unlike .gitignore).
    expect(f("src/x.log", false)).toBe(false);
    expect(f("app.py", false)).toBe(false);
    expect(f("Dockerfile", false)).toBe(false);
    expect(f(".dockerignore", false)).toBe(false);
  });

  it("an exception brings a file back out of an ignored folder, so folders are walked then", () => {
    const f = dockerignoreFilter(context("secrets\n!secrets/public.pem\n")) as (
      p: string,
      d: boolean,
    ) => boolean;
    expect(f("secrets", true)).toBe(false); // walked: its files are judged one by one
    expect(f("secrets/key.pem", false)).toBe(true);
    expect(f("secrets/public.pem", false)).toBe(false);
  });

  it("a folder is left out whole when no exception could bring anything back", () => {
    const f = dockerignoreFilter(context("secrets/\n")) as (p: string, d: boolean) => boolean;
    expect(f("secrets", true)).toBe(true);
  });

  it("no .dockerignore (or an empty one): nothing is left out", () => {
    expect(dockerignoreFilter(tempDir())).toBeNull();
    expect(dockerignoreFilter(context("\n# only a comment\n"))).toBeNull();
  });
});

describe("label values shown as text", () => {
  it("escape sequences and newlines in a label someone set are written out, not acted on", () => {
    expect(shownAsText("evil\u001b]0;pwned\u0007run\nx")).toBe("evil\\x1b]0;pwned\\x07run\\x0ax");
    expect(shownAsText("20261205-abc")).toBe("20261205-abc");
  });
});
