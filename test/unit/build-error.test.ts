import { describe, expect, it } from "vitest";
import { buildFailureCause } from "../../src/sandbox/build-error.js";
import { ECHO_CHARS } from "../../src/util/echo.js";

/** Classic builder logs as azlon writes them (the stream, then the error event's `ERROR:` line). */
const classic = (steps: string, error: string) =>
  `Step 1/3 : FROM busybox:latest\n ---> f02d6a9c1b49\nStep 2/3 : LABEL "azlon.run"="r"\n ---> Running in 764437e6b65c\nRemoving intermediate container 764437e6b65c\n ---> fc7d4496247b\n${steps}ERROR: ${error}\n`;

describe("why a build failed, from its log", () => {
  it.each([
    [
      "an unknown instruction (K=-): the engine refuses the Dockerfile before any step",
      "ERROR: dockerfile parse error line 3: unknown instruction: K=-\n",
      "dockerfile parse error line 3: unknown instruction: K=-",
    ],
    [
      "ENV with no argument",
      "ERROR: dockerfile parse error line 3: ENV requires at least one argument\n",
      "dockerfile parse error line 3: ENV requires at least one argument",
    ],
    [
      "a RUN step that exits 1, after printing",
      classic(
        "Step 3/3 : RUN echo hi && false\n ---> Running in 4222f5a38f43\nhi\nRemoving intermediate container 4222f5a38f43\n",
        "The command '/bin/sh -c echo hi && false' returned a non-zero code: 1",
      ),
      "The command '/bin/sh -c echo hi && false' returned a non-zero code: 1",
    ],
    [
      "a RUN step whose own output says ERROR: first (the builder's verdict wins)",
      classic(
        "Step 3/3 : RUN make\n ---> Running in 4222f5a38f43\nERROR: all tests pass, nothing is wrong\n",
        "The command '/bin/sh -c make' returned a non-zero code: 2",
      ),
      "The command '/bin/sh -c make' returned a non-zero code: 2",
    ],
    [
      "a COPY of a file that is not in the context",
      classic(
        "Step 3/3 : COPY missing.txt /x\n",
        "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist",
      ),
      "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist",
    ],
    [
      "RUN --mount under the classic builder",
      classic(
        "Step 3/3 : RUN --mount=type=cache,target=/x true\n",
        "the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled",
      ),
      "the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled",
    ],
    [
      "a base image that is not there and cannot be pulled",
      "Step 1/2 : FROM nosuchimage-azlon:1\nERROR: pull access denied for nosuchimage-azlon, repository does not exist or may require 'docker login'\n",
      "pull access denied for nosuchimage-azlon, repository does not exist or may require 'docker login'",
    ],
    [
      "no Dockerfile in the context",
      "ERROR: Cannot locate specified Dockerfile: Dockerfile\n",
      "Cannot locate specified Dockerfile: Dockerfile",
    ],
    [
      "BuildKit (plain progress): a RUN step that exits 1",
      '#5 [2/2] RUN false\n#5 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1\n------\n > [2/2] RUN false:\n------\nDockerfile:2\n--------------------\n   1 |     FROM busybox\n   2 | >>> RUN false\n--------------------\nERROR: failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1\n',
      'process "/bin/sh -c false" did not complete successfully: exit code: 1',
    ],
    [
      "BuildKit: an unknown instruction",
      "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\nERROR: failed to solve: dockerfile parse error on line 2: unknown instruction: K=-\n",
      "dockerfile parse error on line 2: unknown instruction: K=-",
    ],
    [
      "older BuildKit, wrapped twice",
      "ERROR: failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 2: unknown instruction: K=-\n",
      "dockerfile parse error line 2: unknown instruction: K=-",
    ],
  ])("%s", (_what, log, cause) => {
    expect(buildFailureCause(log)).toBe(cause);
  });

  it("names none when the log has no error line (a build stopped at its time limit)", () => {
    expect(
      buildFailureCause(
        "Step 1/2 : FROM busybox\n\n[azlon: the build was stopped after 10 s, the build time limit]\n",
      ),
    ).toBeNull();
    expect(buildFailureCause("")).toBeNull();
    expect(buildFailureCause("ERROR:   \n")).toBeNull();
  });

  it("keeps a hostile cause bounded and on one line", () => {
    const cause = buildFailureCause(`ERROR: ${"x".repeat(100_000)}\n`) as string;
    expect(cause.length).toBeLessThan(ECHO_CHARS + 40);
    expect(cause).toContain("more characters");
  });
});
