import { describe, expect, it } from "vitest";
import { renderReport } from "../../src/report/report.js";
import { failedRun, passedRun } from "../helpers/run-fixtures.js";

/** Every src and href value of the document's elements (escaped text has no tags). */
const links = (html: string) =>
  [...html.matchAll(/<[a-z][^>]*>/gi)].flatMap((tag) =>
    [...tag[0].matchAll(/\s(?:src|href)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]),
  );

describe("azlon report's HTML", () => {
  it("shows a passed run: status, rounds, phases, checks, verdicts with evidence, output, diffs, files, tokens and cost", () => {
    const html = renderReport(passedRun());
    expect(html).toContain('<span class="status passed">passed</span>');
    expect(html).toContain("Round 1");
    expect(html).toContain("Round 2");
    expect(html).toContain("built in 1.2 s");
    expect(html).toContain("ran: exit 3 in 40 ms, 12 B of output");
    expect(html).toContain("checks: 0/1 passed");
    expect(html).toContain("checks: 1/1 passed");
    expect(html).toContain('<span class="ok">passed</span>');
    expect(html).toMatch(/<li>hello, world<\/li>/);
    expect(html).toContain("<pre>hello, wrld\n</pre>");
    expect(html).toContain("want hello, world");
    // Round 2's diff: the fixed line replaces the wrong one.
    expect(html).toContain('<div class="diff-row del">- echo &quot;hello, wrld&quot;</div>');
    expect(html).toContain('<div class="diff-row add">+ echo &quot;hello, world&quot;</div>');
    expect(html).toContain("greet.sh");
    expect(html).toContain("1,234 prompt (89 cached), 567 completion");
    expect(html).toContain("$0.0123");
  });

  it("keeps the model's markup as text: no script or element comes from a verdict, a file, a log or the output", () => {
    const html = renderReport(failedRun());
    expect(html).toContain('<span class="status failed">failed</span>');
    expect(html).toContain("build failed after 500 ms: pull access denied &lt;script&gt;");
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    // The output is cut to its tail, and says so.
    expect(html).toMatch(/the last 16 KiB of 39\.\d KiB/);
    expect(html).not.toContain("x".repeat(20_000));
  });

  it("opens without a network: its CSS is inline, and no src or href leaves the file", () => {
    for (const html of [renderReport(passedRun()), renderReport(failedRun())]) {
      expect(html).toContain("<style>");
      expect(html).toContain("default-src 'none'");
      for (const link of links(html)) expect(link).toMatch(/^#/);
      expect(html).not.toMatch(/<link\b/i);
    }
  });

  it("a run that stopped short says how to carry it on, in the terminal's words; a passed one does not", () => {
    const dir = failedRun();
    const html = renderReport(dir);
    // The cap of 2 rounds was reached: the command raises it, as the terminal prints it.
    expect(html).toContain(`<dt>continue</dt><dd>azlon resume ${dir} --max-iterations 4</dd>`);
    expect(renderReport(passedRun())).not.toContain("<dt>continue</dt>");
  });

  it("a round whose build failed says its program did not run; its cost is unknown without a price", () => {
    const html = renderReport(failedRun());
    const round1 = html.slice(html.indexOf('id="round-1"'), html.indexOf('id="round-2"'));
    expect(round1).toContain(
      '<h3>Output</h3><p class="muted">the build failed, so the program did not run (the build log is below)</p>',
    );
    expect(round1).toContain('<span class="status failed">build failed</span>');
    expect(html).toContain("<dt>cost</dt><dd>unknown (no price for this model)</dd>");
    expect(html).toContain('<span class="status failed">pass not accepted</span>');
    expect(html).toContain("<dt>iterations</dt><dd>2 of 2</dd>");
  });
});
