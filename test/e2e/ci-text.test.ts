import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { fail, generation } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-ci-text-0123456789";
const { server, images } = loopbackModel();

/** A judge that writes markdown, HTML and workflow commands into everything it says. */
const HOSTILE =
  "not yet ![](http://evil.example/pixel.png) [click](http://evil.example) <img src=http://evil.example/i.png>\n::error::forged by the model\n  ::add-mask::KEY ##[warning]forged too";

/** The runner's own rules (actions/runner ActionCommand): `::` after leading blanks, `##[` anywhere. */
function commandLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((l) => l.trimStart().startsWith("::") || l.includes("##["));
}

/**
 * The one command azlon means: its outcome as an annotation, whose message (after the second
 * `::`) the runner decodes (%0A a newline) and shows as text.
 */
function ownAnnotation(line: string): boolean {
  return line.startsWith("::error title=azlon failed::not passed after 1 iteration: not yet");
}

async function hostileRun(json: boolean) {
  const cwd = tempDir();
  const summary = join(cwd, "step-summary.md");
  const output = join(cwd, "github-output");
  writeFileSync(output, "");
  server.enqueue(
    generation(`FROM ${BUSYBOX}\nENTRYPOINT ["echo", "::error::from the program"]\n`, {}),
    fail(HOSTILE, {}, ["::error::quoted", "![q](http://evil.example/q.png)"]),
  );
  const args = runArgs(server, join(cwd, "runs"), ["--max-iterations", "1"]).filter(
    (a) => json || a !== "--json",
  );
  const result = await runCli(args, {
    cwd,
    env: {
      OPENAI_API_KEY: KEY,
      GITHUB_ACTIONS: "true",
      CI: "true",
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: output,
    },
  });
  return { ...result, summary: readFileSync(summary, "utf8") };
}

describeDocker("model text in CI stays text (GitHub Actions: log, annotations, step summary)", () => {
  it.each([
    ["plain lines", false],
    ["--json", true],
  ])(
    "%s: no line printed from the judge's words is a workflow command; the step summary shows them as text",
    async (_mode, json) => {
      const r = await hostileRun(json);
      expect(r.code, r.stderr).toBe(1);
      if (json) {
        const result = JSON.parse(r.stdout);
        images.push(result.image);
        // The JSON carries the words as they were, escaped where a runner would read them.
        expect(result.reason).toContain("##[warning]forged too");
        expect(result.reason).toContain("\n::error::forged by the model");
      } else {
        images.push(/image\s+(\S+)/.exec(r.stdout)?.[1] as string);
        expect(r.stdout).toContain("reason      not passed after 1 iteration: not yet");
      }
      // azlon's own annotation, once, on stdout in plain mode and on stderr with --json.
      const own = commandLines(json ? r.stderr : r.stdout);
      expect(own).toHaveLength(1);
      expect(ownAnnotation(own[0] as string), own[0]).toBe(true);
      expect(commandLines(json ? r.stdout : r.stderr)).toEqual([]);
      // The judge's words are still there to read, on lines of azlon's.
      expect(`${r.stdout}${r.stderr}`).toContain("forged by the model");

      expect(r.summary).toContain("not yet \\!\\[\\]\\(http\\:\\/\\/evil\\.example\\/pixel\\.png\\)");
      expect(r.summary).toContain("\\<img src\\=http\\:\\/\\/evil\\.example\\/i\\.png\\>");
      // No image, link, tag or autolink left for GitHub to render; the table row stays one line.
      expect(r.summary).not.toMatch(/(^|[^\\])(!\[|\]\(|<img|:\/\/)/m);
      expect(r.summary.split("\n").filter((l) => l.includes("forged"))).toHaveLength(1);
      expect(commandLines(r.summary)).toEqual([]);
    },
  );
});
