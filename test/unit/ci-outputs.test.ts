import { describe, expect, it } from "vitest";
import { annotations, stepSummary } from "../../src/ci/github.js";
import { junitXml } from "../../src/ci/junit.js";
import { errorResult, type Result } from "../../src/engine/result.js";

const base = (over: Partial<Result>): Result => ({ ...errorResult("x", null), errorCategory: null, ...over });

const failed = base({
  status: "failed",
  stopReason: "max-iterations",
  runId: "r1",
  iterations: 2,
  reason: 'not passed: <b>"bad"</b> & \u001b[31mred\u0007',
  verdict: "both",
  checks: {
    total: 2,
    passed: 1,
    failed: 1,
    serviceReady: null,
    trust: null,
    results: [
      {
        command: "pytest -q | tee log",
        passed: false,
        exitCode: 1,
        timedOut: false,
        problem: "exit 1",
        durationMs: 1200,
      },
      { command: "true", passed: true, exitCode: 0, timedOut: false, problem: null, durationMs: 5 },
    ],
  },
});

describe("what CI reads", () => {
  it("JUnit: one testcase per check and one for the verdict, escaped, no control characters", () => {
    const xml = junitXml(failed, new Map([["pytest -q | tee log", "E  assert 1 == 2 <here>\u0000"]]));
    expect(xml).toContain('<testsuites name="azlon" tests="3" failures="2" errors="0" skipped="0"');
    expect(xml).toContain('<testcase classname="azlon.checks" name="pytest -q | tee log" time="1.200">');
    expect(xml).toContain('<failure message="exit 1">E  assert 1 == 2 &lt;here&gt;</failure>');
    expect(xml).toContain("&lt;b&gt;&quot;bad&quot;&lt;/b&gt; &amp;");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none are left
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });

  it("JUnit: checks that never ran are skipped when the run was interrupted", () => {
    const xml = junitXml(
      base({
        status: "interrupted",
        stopReason: "interrupted",
        checks: { total: 2, passed: 0, failed: 2, serviceReady: null, results: [], trust: null },
      }),
    );
    expect(xml).toContain('tests="3" failures="0" errors="1" skipped="2"');
  });

  it("step summary: a checks table whose cells cannot break the table", () => {
    const md = stepSummary(failed);
    expect(md).toContain("### ❌ azlon: failed after 2 iterations");
    expect(md).toContain("| <code>pytest \\-q \\| tee log</code> | ❌ exit 1 | 1 | 1.2 s |");
  });

  it("step summary: a judge's markdown and HTML show as text, never as a live image, link or tag", () => {
    const md = stepSummary(
      base({
        status: "failed",
        reason:
          "nope ![](http://evil.example/pixel.png) [click](https://evil.example) <img src=x onerror=alert(1)> www.evil.example *bold* `code` &lt; | cell\n::error::forged",
        checks: {
          total: 1,
          passed: 0,
          failed: 1,
          serviceReady: null,
          trust: null,
          results: [
            {
              command: "true",
              passed: false,
              exitCode: 1,
              timedOut: false,
              problem: "![p](http://evil.example/p.png)",
              durationMs: 1,
            },
          ],
        },
      }),
    );
    expect(md).toContain(
      "| reason | nope \\!\\[\\]\\(http\\:\\/\\/evil\\.example\\/pixel\\.png\\) \\[click\\]\\(https\\:\\/\\/evil\\.example\\) \\<img src\\=x onerror\\=alert\\(1\\)\\> www\\.evil\\.example \\*bold\\* \\`code\\` \\&lt\\; \\| cell \\: \\:error\\:\\:forged |",
    );
    // Nothing markdown or HTML would act on is left unescaped.
    expect(md).not.toMatch(/(^|[^\\])(!\[|\]\(|<img|:\/\/|www\.|&lt;)/m);
    expect(md).toContain("❌ \\!\\[p\\]\\(http");
    expect(md.split("\n").filter((l) => l.includes("forged"))).toHaveLength(1);
  });

  it("step summary: a failed run's quotes are the judge's last quotes, not evidence, and stay text", () => {
    const md = stepSummary(base({ status: "failed", rejectedEvidence: ["![q](http://evil.example/q.png)"] }));
    expect(md).not.toContain("#### Evidence");
    expect(md).toContain("#### The judge's last quotes (no proof of a pass)\n\n- <code>\\!\\[q\\]\\(http");
  });

  it("annotations: escaped so a reason cannot start a second command", () => {
    const lines = annotations(base({ status: "failed", reason: "bad\n::set-output name=x::1 100%" }));
    expect(lines[0]).toBe("::error title=azlon failed::bad%0A::set-output name=x::1 100%25");
  });
});
