import { describe, expect, it } from "vitest";
import { labelDockerfile, labelLineOf, modelLineNumbers } from "../../src/sandbox/dockerfile-labels.js";

const labels = { "azlon.run": "r1", "azlon.owner.pid": "42" };
const LABEL = 'LABEL "azlon.run"="r1" "azlon.owner.pid"="42"';

describe("the run's labels written into the Dockerfile, where the builder caches them", () => {
  it("goes right after the FROM line", () => {
    expect(labelDockerfile('FROM busybox\nCOPY a /a\nCMD ["cat", "/a"]\n', labels)).toBe(
      `FROM busybox\n${LABEL}\nCOPY a /a\nCMD ["cat", "/a"]\n`,
    );
  });

  it("labels the final stage of a multi-stage build", () => {
    const text = "FROM golang AS build\nRUN go build\n# final\nfrom busybox\nCOPY --from=build /x /x\n";
    expect(labelDockerfile(text, labels)).toBe(
      `FROM golang AS build\nRUN go build\n# final\nfrom busybox\n${LABEL}\nCOPY --from=build /x /x\n`,
    );
  });

  it("is not fooled by FROM inside a continued instruction", () => {
    const text = "FROM busybox\nRUN echo \\\n FROM x\nCMD x\n";
    expect(labelDockerfile(text, labels)).toBe(`FROM busybox\n${LABEL}\nRUN echo \\\n FROM x\nCMD x\n`);
  });

  it("leaves alone what it cannot edit safely: the build option labels it then", () => {
    expect(labelDockerfile("# escape=`\nFROM busybox\n", labels)).toBeNull();
    expect(labelDockerfile("FROM \\\n busybox\n", labels)).toBeNull();
    expect(labelDockerfile("RUN echo hi\n", labels)).toBeNull();
    expect(labelDockerfile("", labels)).toBeNull();
  });
});

describe("the engine's line numbers, as the model wrote its Dockerfile", () => {
  const original = "FROM busybox\nK=-\nCMD x\n";
  const labelled = labelDockerfile(original, { "azlon.run": "r" });

  it("azlon's LABEL is on line 2; a parse error on the builder's line 3 is the model's line 2", () => {
    const line = labelLineOf(original, labelled);
    expect(line).toBe(2);
    expect(modelLineNumbers("dockerfile parse error line 3: unknown instruction: K=-", line)).toBe(
      "dockerfile parse error line 2: unknown instruction: K=-",
    );
    expect(modelLineNumbers("failed to solve: dockerfile parse error on line 3: x; Dockerfile:4", line)).toBe(
      "failed to solve: dockerfile parse error on line 2: x; Dockerfile:3",
    );
  });

  it("lines before the label, and a Dockerfile azlon did not edit, keep their numbers", () => {
    expect(modelLineNumbers("dockerfile parse error line 1: FROM requires one argument", 2)).toBe(
      "dockerfile parse error line 1: FROM requires one argument",
    );
    expect(labelLineOf(original, null)).toBeNull();
    expect(modelLineNumbers("error line 3", null)).toBe("error line 3");
  });
});
