import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeBrowser, startBrowser } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { describeDocker, removeLabelled } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { fail, generation } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { onlyRunDir, readRun } from "../helpers/run-folder.js";
import { startServe } from "../helpers/serve.js";
import { tempDir } from "../helpers/tmp.js";

// One run, three views: what the terminal printed as it went, what the page shows of the same
// run folder, and what report.html says must agree, word for word, on every round.
const { server } = loopbackModel();
const KEY = "sk-test-page-truth-0123456789";

/** A round's lines as the terminal printed them (its mark and "iteration N/M" taken off). */
function terminalRounds(stderr: string): Map<number, string[]> {
  const rounds = new Map<number, string[]>();
  for (const m of stderr.matchAll(/^[✔✖!] iteration (\d+)\/\d+ (.*)$/gm)) {
    const n = Number(m[1]);
    rounds.set(n, [...(rounds.get(n) ?? []), m[2] as string]);
  }
  return rounds;
}

/** The summary's "label  value" lines. */
function summaryFields(stdout: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of stdout.matchAll(/^ {2}(reason|cost|run folder|image|continue) +(.*)$/gm))
    fields[m[1] as string] = m[2] as string;
  return fields;
}

/** The facts list of a view (dt → dd). */
async function facts(page: Page, selector: string): Promise<Record<string, string>> {
  return page.$eval(selector, (dl) => {
    const out: Record<string, string> = {};
    for (const dt of dl.querySelectorAll("dt"))
      out[dt.textContent ?? ""] = dt.nextElementSibling?.textContent ?? "";
    return out;
  });
}

describeDocker("one run, one truth (real engine, loopback model, azlon serve)", () => {
  describeBrowser("in chromium", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await startBrowser("chromium");
    });
    afterAll(async () => {
      await browser?.close();
    });

    it("the page and report.html word every round, the counts and the cost as the terminal did", {
      timeout: 240_000,
    }, async () => {
      const cwd = tempDir();
      const out = join(cwd, "runs");
      // Round 1: a Dockerfile the engine cannot parse. Round 2: it builds and runs, but prints
      // the wrong words, so the check fails and the judge says no; the cap of 2 ends the run.
      server.enqueue(
        generation(`FROM ${BUSYBOX}\nK=-\n`, { "greet.sh": 'echo "hello, wrld"\n' }),
        fail("the Dockerfile does not parse", {
          dockerfile: `FROM ${BUSYBOX}\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n`,
        }),
        fail("it prints hello, wrld", {}, ["hello, wrld"]),
      );
      const env = { OPENAI_API_KEY: KEY };
      const run = await runCli(
        [
          "run",
          ...["--prompt", "a script that greets", "--tests", "it prints hello, world"],
          ...["--model", "gpt-test", "--base-url", server.url, "--out", out, "--max-iterations", "2"],
          ...["--check", "sh /greet.sh | grep -q 'hello, world'"],
        ],
        { cwd, env },
      );
      expect(run.code, run.stderr).toBe(1);
      const dir = onlyRunDir(out);
      const { runId } = readRun(dir);
      const served = await startServe(["--out", out], {
        cwd,
        env: { ...env, OPENAI_BASE_URL: server.url, AZLON_MODEL: "gpt-test" },
      });
      try {
        // The terminal's words for each round.
        const said = terminalRounds(run.stderr);
        expect(said.get(1)).toEqual([
          "2 files written",
          expect.stringMatching(
            /^build failed after \S+ m?s: dockerfile parse error line 2: unknown instruction: K=-$/,
          ),
          "not passed: the Dockerfile does not parse",
        ]);
        expect(said.get(2)).toEqual([
          "1 file written",
          expect.stringMatching(/^built in /),
          expect.stringMatching(/^ran: exit 0 in .+, 12 B of output$/),
          "checks: 0/1 passed",
          "not passed: it prints hello, wrld",
        ]);
        const summary = summaryFields(run.stdout);
        expect(summary.cost).toBe("unknown (no price for this model)");
        expect(summary.continue).toBe(`azlon resume ${dir} --max-iterations 4`);
        const tokens = Number(/ · ([\d,]+) tokens/.exec(run.stdout)?.[1]?.replace(/,/g, ""));

        // The page, every round opened.
        const page = await browser.newPage();
        await page.goto(`${served.url}/#/runs/${encodeURIComponent(runId)}`);
        await page.waitForSelector("details[data-round='2'] .verdict-word");
        await page.click("details[data-round='1'] summary");
        await page.waitForSelector("details[data-round='1'] .verdict-word");
        // The report, as a browser shows the file.
        expect((await runCli(["report", dir], { cwd })).code).toBe(0);
        const report = await browser.newPage();
        await report.goto(pathToFileURL(join(dir, "report.html")).href);

        const views: Array<[string, Page, (n: number) => string, string]> = [
          ["page", page, (n) => `details[data-round='${n}']`, "#run-facts"],
          ["report", report, (n) => `#round-${n}`, "dl.kv"],
        ];
        for (const [name, view, round, factsAt] of views) {
          for (const n of [1, 2]) {
            const text = await view.$eval(round(n), (el) => el.textContent ?? "");
            for (const line of said.get(n) ?? []) {
              // A verdict line is the verdict's word and its reason, each shown in the round.
              for (const part of line.startsWith("not passed: ") ? line.split(": ") : [line])
                expect(text, `${name}, round ${n}`).toContain(part);
            }
          }
          const badge1 = await view.$eval(`${round(1)} summary .status`, (el) => el.textContent);
          const badge2 = await view.$eval(`${round(2)} summary .status`, (el) => el.textContent);
          expect([badge1, badge2], name).toEqual(["build failed", "not passed"]);
          // Round 1's program never ran: its Output says so, not "(nothing printed)".
          const output1 = await view.$eval(round(1), (el) => el.textContent ?? "");
          expect(output1, name).toContain("Outputthe build failed, so the program did not run");
          const shown = await facts(view, factsAt);
          expect(shown.cost, name).toBe(summary.cost);
          expect(shown.iterations, name).toBe("2 of 2");
          expect(shown["stop reason"], name).toBe("max-iterations");
          const [prompt, completion] = [
            ...(shown.tokens ?? "").matchAll(/([\d,]+) (?:prompt|completion)/g),
          ].map((m) => Number(m[1]?.replace(/,/g, "")));
          expect((prompt ?? 0) + (completion ?? 0), name).toBe(tokens);
          if (name === "report") expect(shown.continue).toBe(summary.continue);
        }
        expect(run.stdout).toMatch(/^✖ did not pass after 2 iterations · /);
        // The page says where a new run goes: the server's model and endpoint.
        await page.goto(`${served.url}/#/`);
        await page.waitForFunction('document.getElementById("server-defaults").textContent !== ""');
        const defaults = await page.$eval("#server-defaults", (el) => el.textContent ?? "");
        expect(defaults).toContain(`Runs ask gpt-test at ${server.url}`);
        expect(defaults).not.toContain(KEY);
      } finally {
        served.child.kill("SIGTERM");
        await served.done;
        await removeLabelled(runId);
      }
    });
  });
});
