import { describe, expect, it } from "vitest";
import type { CheckOptions, RunOptions } from "../../src/core/state.js";
import type { ChecksReport, CheckView } from "../../src/core/types.js";
import { freshState, notPassed, passed } from "../helpers/fakes.js";
import { generate, harness, judge } from "../helpers/loop-harness.js";

const checkOptions = (commands: string[], extra: Partial<CheckOptions> = {}): CheckOptions => ({
  commands,
  dir: null,
  hide: false,
  timeoutMs: 30_000,
  ...extra,
});

function withChecks(commands: string[], options: Partial<RunOptions> = {}) {
  return freshState({ checks: checkOptions(commands), ...options });
}

const view = (commands: string[], verdict: CheckView["verdict"] = "both"): CheckView => ({
  commands,
  files: [],
  names: [],
  ready: null,
  verdict,
});

describe("checks decide, the judge advises (scripted model, fake sandbox)", () => {
  it("both: a failing check vetoes the judge's proven pass; the judge is told which check failed", async () => {
    const h = harness(
      [
        generate({ "app.sh": "echo hello" }),
        // A pass proven by the output, but the check failed: refused, and the judge is told why.
        judge(passed(["hello"])),
        judge(notPassed("the test fails", { "app.sh": "echo hello; true" })),
        judge(passed(["hello"])),
      ],
      [
        { output: "hello\n", checks: [{ exitCode: 1, output: "FAILED test_greeting\n" }] },
        { output: "hello\n", checks: [{ exitCode: 0 }] },
      ],
      { checks: view(["pytest -q /azlon/checks"]) },
    );
    const { state } = await h.run(withChecks(["pytest -q /azlon/checks"]));
    expect(state.status).toBe("passed");
    expect(state.iterations).toHaveLength(2);
    const veto = h.model.judged[1]?.feedback[0]?.problem ?? "";
    expect(veto).toContain("`pytest -q /azlon/checks`: exit 1");
    expect(veto).toContain("cannot pass while a check fails");
    expect(h.model.judged[0]?.request.checkResults?.results[0]).toMatchObject({ passed: false, exitCode: 1 });
    const first = h.readJson<{ accepted: boolean; decidedBy: string }>(1, "verdict.json");
    expect(first).toMatchObject({ passed: false, accepted: false, decidedBy: "both" });
    const checks = h.readJson<ChecksReport>(1, "checks.json");
    expect(checks.results[0]?.output.text).toBe("FAILED test_greeting\n");
    expect(state.iterations[0]?.checks).toEqual({ passed: 0, total: 1, serviceReady: null });
    expect(h.journal().filter((e) => e.type === "evidence.rejected")).toMatchObject([{ by: "checks" }]);
  });

  it("checks: passing checks pass the run with no judge call at all", async () => {
    const h = harness(
      [generate({ "app.sh": "echo hi" })],
      [{ output: "hi\n", checks: [{ exitCode: 0 }, { exitCode: 0 }] }],
      { checks: view(["test -f /app.sh", "sh /app.sh | grep hi"], "checks") },
    );
    const { state } = await h.run(
      withChecks(["test -f /app.sh", "sh /app.sh | grep hi"], { verdict: "checks" }),
    );
    expect(state).toMatchObject({ status: "passed", reason: "all 2 checks passed" });
    expect(h.model.judged).toHaveLength(0);
    expect(h.sandbox.checkRequests[0]?.commands).toEqual(["test -f /app.sh", "sh /app.sh | grep hi"]);
    const verdict = h.journal().find((e) => e.type === "verdict");
    expect(verdict).toMatchObject({ accepted: true, decidedBy: "checks" });
  });

  it("checks: a failing check asks the model for a fix only, and its claimed pass is refused", async () => {
    const h = harness(
      [
        generate({ "app.sh": "echo hi" }),
        judge(passed(["hi"])),
        judge(notPassed("fix", { "app.sh": "echo hello" })),
      ],
      [
        { output: "hi\n", checks: [{ exitCode: 2 }] },
        { output: "hello\n", checks: [{ exitCode: 0 }] },
      ],
      { checks: view(["grep -q hello /out"], "checks") },
    );
    const { state } = await h.run(withChecks(["grep -q hello /out"], { verdict: "checks" }));
    expect(state.status).toBe("passed");
    expect(h.model.judged).toHaveLength(2);
    expect(h.model.judged[1]?.feedback[0]?.problem).toContain("The user's checks decide");
    expect(state.iterations[1]?.verdict).toMatchObject({ passed: true, accepted: true });
  });

  it("judge: the judge's proven pass decides even while a check fails; the checks are shown to it", async () => {
    const h = harness(
      [generate({ "app.sh": "echo hello" }), judge(passed(["hello"]))],
      [{ output: "hello\n", checks: [{ exitCode: 1, output: "FAILED test_greeting\n" }] }],
      { checks: view(["pytest -q"], "judge") },
    );
    const { state } = await h.run(withChecks(["pytest -q"], { verdict: "judge" }));
    expect(state.status).toBe("passed");
    expect(h.model.judged).toHaveLength(1);
    expect(h.model.judged[0]?.request.checkResults?.results[0]).toMatchObject({ passed: false, exitCode: 1 });
    expect(h.readJson<{ decidedBy: string }>(1, "verdict.json").decidedBy).toBe("judge");
  });

  it("judge: a refused pass is refused for its quotes, not blamed on the checks that do not decide", async () => {
    const h = harness(
      [generate({ "app.sh": "echo hello" }), judge(passed(["goodbye"])), judge(passed(["goodbye"]))],
      [{ output: "hello\n", checks: [{ exitCode: 1 }] }],
      { checks: view(["pytest -q"], "judge") },
    );
    const { state } = await h.run(
      withChecks(["pytest -q"], { verdict: "judge", maxIterations: 1, repairAttempts: 1 }),
    );
    expect(state.status).toBe("failed");
    expect(state.iterations[0]?.verdict?.reason).toContain("the output does not show (not found:");
    expect(h.journal().filter((e) => e.type === "evidence.rejected")).toMatchObject([
      { by: "evidence" },
      { by: "evidence" },
    ]);
  });

  it("both: the judge may quote a check's output as evidence", async () => {
    const h = harness(
      [generate({ a: "1" }), judge(passed(["2 passed in 0.01s"]))],
      [{ output: "started\n", checks: [{ exitCode: 0, output: "..\n2 passed in 0.01s\n" }] }],
      { checks: view(["pytest -q"]) },
    );
    const { state } = await h.run(withChecks(["pytest -q"]));
    expect(state.status).toBe("passed");
  });

  it("a pass whose quote is in no output is still refused with checks passing", async () => {
    const h = harness(
      [generate({ a: "1" }), judge(passed(["all 3 tests passed"])), judge(passed(["all 3 tests passed"]))],
      [{ output: "started\n", checks: [{ exitCode: 0, output: "ok\n" }] }],
      { checks: view(["true"]) },
    );
    const { state } = await h.run(withChecks(["true"], { maxIterations: 1, repairAttempts: 1 }));
    expect(state.status).toBe("failed");
    expect(state.iterations[0]?.verdict?.reason).toContain("does not show");
  });

  it("a service that never becomes ready fails the round and the memory says so", async () => {
    const h = harness(
      [
        generate({ a: "1" }),
        judge(passed(["listening"])),
        judge(notPassed("bind to 0.0.0.0", { a: "2" })),
        judge(passed(["listening"])),
      ],
      [
        { output: "listening\n", notReady: "not ready after 1 s" },
        { output: "listening\n", checks: [{ exitCode: 0 }] },
      ],
      { checks: { ...view(["wget -q -O- http://127.0.0.1:8080/"]), ready: "nc -z 127.0.0.1 8080" } },
    );
    const state = withChecks(["wget -q -O- http://127.0.0.1:8080/"], {
      service: { ready: "nc -z 127.0.0.1 8080", readyTimeoutMs: 1000 },
      maxIterations: 3,
    });
    const outcome = await h.run(state);
    expect(outcome.state.status).toBe("passed");
    expect(h.model.judged[1]?.feedback[0]?.problem).toContain("the service: not ready after 1 s");
    expect(h.model.judged[2]?.request.history[0]?.summary).toContain("service never became ready");
    expect(outcome.state.iterations[0]?.checks?.serviceReady).toBe(false);
  });

  it("no check runs when the build fails, and the judge is told they did not run", async () => {
    const h = harness(
      [generate({ a: "1" }), judge(notPassed("fix the build", { a: "2" })), judge(passed(["ok"]))],
      [{ buildOk: false }, { output: "ok\n", checks: [{ exitCode: 0 }] }],
      { checks: view(["true"]) },
    );
    const { state } = await h.run(withChecks(["true"]));
    expect(state.status).toBe("passed");
    expect(h.sandbox.checkRequests).toHaveLength(1);
    expect(h.model.judged[0]?.request.checkResults).toBeNull();
  });

  it("a run stopped after its program ran resumes at the check step", async () => {
    const controller = new AbortController();
    const h = harness(
      [generate({ a: "1" }), judge(passed(["ok"]))],
      [{ output: "ok\n", checks: [{ exitCode: 0 }] }],
      {
        checks: view(["true"]),
        // Ctrl-C arrives as soon as the program has run, before the checks.
        report: (e) => {
          if (e.type === "exec.finished") controller.abort();
        },
      },
    );
    const state = withChecks(["true"]);
    const first = await h.run(state, controller.signal);
    expect(first.state).toMatchObject({ status: "interrupted", progress: { iteration: 1, step: "check" } });
    const second = await h.run(first.state);
    expect(second.state.status).toBe("passed");
    expect(h.sandbox.checkRequests).toHaveLength(1);
  });
});
