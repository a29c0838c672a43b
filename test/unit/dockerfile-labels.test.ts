import { describe, expect, it } from "vitest";
import { labelDockerfile } from "../../src/sandbox/dockerfile-labels.js";

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
