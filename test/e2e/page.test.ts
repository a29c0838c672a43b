import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeBrowser, startBrowser } from "../helpers/browser.js";
import { type CliResult, runCli, spawnCli } from "../helpers/cli.js";
import { describeDocker, removeLabelled } from "../helpers/docker.js";
import { loopbackModel } from "../helpers/e2e.js";
import { generation, pass } from "../helpers/fake-openai.js";
import { closeServer, listenLoopback } from "../helpers/http-server.js";
import { BUSYBOX } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const { server } = loopbackModel();

/** `azlon serve --port 0` (the built CLI), once it has printed the address it listens on. */
async function serve(
  out: string,
  extra: string[] = [],
): Promise<{ url: string; child: ChildProcess; done: Promise<CliResult> }> {
  const { child, done } = spawnCli(["serve", "--port", "0", "--out", out, ...extra], {
    cwd: tempDir(),
    env: { OPENAI_API_KEY: "sk-test-page", OPENAI_BASE_URL: server.url, AZLON_MODEL: "gpt-test" },
  });
  let seen = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`azlon serve printed no address: ${seen}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /(http:\/\/[^\s/]+)/.exec(seen);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void done.then((r) => {
      clearTimeout(timer);
      reject(new Error(`azlon serve exited ${r.code}: ${r.stderr}`));
    });
  });
  return { url, child, done };
}

describeDocker("the web page end to end (azlon serve, real engine, loopback model)", () => {
  for (const which of ["chromium", "firefox"] as const)
    describeBrowser(
      `in ${which}`,
      () => {
        let browser: Browser;
        beforeAll(async () => {
          browser = await startBrowser(which);
        });
        afterAll(async () => {
          await browser?.close();
        });

        it("starts a run from the page with the keyboard, watches it pass, and its report shows the same", {
          timeout: 180_000,
        }, async () => {
          const out = join(tempDir(), "runs");
          server.enqueue(
            generation(`FROM ${BUSYBOX}\nCOPY greet.sh /greet.sh\nENTRYPOINT ["sh", "/greet.sh"]\n`, {
              "greet.sh": 'echo "hello, world"\n',
            }),
            pass(["hello, world"]),
          );
          const served = await serve(out);
          let runId = "";
          try {
            const page = await browser.newPage();
            await page.goto(`${served.url}/`);
            await page.waitForSelector("textarea[name=prompt]");
            await page.focus("textarea[name=prompt]");
            await page.keyboard.type("a script that greets");
            await page.keyboard.press("Tab");
            await page.keyboard.type("it prints hello, world");
            // Ctrl+Enter in a text box submits the form.
            await page.keyboard.down("Control");
            await page.keyboard.press("Enter");
            await page.keyboard.up("Control");
            await page.waitForFunction('location.hash.startsWith("#/runs/")', { timeout: 20_000 });
            runId = decodeURIComponent(
              ((await page.evaluate("location.hash")) as string).slice("#/runs/".length),
            );
            // Live: the events stream moves the page on until the run has passed.
            await page.waitForSelector("#run-status.passed", { timeout: 150_000 });
            await page.waitForFunction(
              'document.querySelector("#run-rounds .verdict-word")?.textContent === "passed"',
              {
                timeout: 20_000,
              },
            );
            const text = await page.$eval("#view-run", (el) => el.textContent ?? "");
            expect(text).toContain("built in ");
            expect(text).toContain("ran: exit 0 in ");
            expect(text).toContain("hello, world");
            expect(text).toContain("greet.sh");
            // The events stream polls the journal, so its last lines may come just after the status.
            await page.waitForFunction(
              'document.querySelector("#run-events")?.textContent?.includes("verdict: passed")',
              { timeout: 10_000 },
            );
            // The diff of round 1: the created files, all added lines.
            expect(await page.$$eval(".diff-row.add", (rows) => rows.map((r) => r.textContent))).toContain(
              '+ echo "hello, world"',
            );
            // The same run as a report file: the real run folder, changes.json included.
            const report = await runCli(["report", join(out, runId)], { cwd: out });
            expect(report.code, report.stderr).toBe(0);
            const html = readFileSync(join(out, runId, "report.html"), "utf8");
            expect(html).toContain('<span class="status passed">passed</span>');
            expect(html).toContain('<div class="diff-row add">+ echo &quot;hello, world&quot;</div>');
          } finally {
            served.child.kill("SIGTERM");
            await served.done;
            if (runId) await removeLabelled(runId);
          }
        });
        if (which === "chromium")
          it("with a token: the page opened as /#token=… loads, and its API calls carry the token", async () => {
            const served = await serve(join(tempDir(), "runs"), ["--token", "s3cret-page-token"]);
            try {
              // The API refuses a caller without the token…
              expect((await fetch(`${served.url}/api/runs`)).status).toBe(401);
              // …but a browser cannot send a header when it opens a page: the page and its
              // assets must load, and the page then sends the token from the fragment.
              const page = await browser.newPage();
              await page.goto(`${served.url}/#token=s3cret-page-token`);
              await page.waitForFunction(
                'document.getElementById("runs-note")?.textContent === "no runs yet"',
                {
                  timeout: 10_000,
                },
              );
              expect(await page.$eval("#global-error", (el) => el.textContent)).toBe("");
              expect(new URL(page.url()).hash).toBe("#/");
            } finally {
              served.child.kill("SIGTERM");
              await served.done;
            }
          });
        if (which === "chromium")
          it("a hostile page cannot drive it: a name rebound to this machine is refused, and a cross-site form or fetch starts nothing and changes no prompt", async () => {
            const out = join(tempDir(), "runs");
            const served = await serve(out);
            const port = new URL(served.url).port;
            const prompts = await (await fetch(`${served.url}/prompts`)).text();
            // The attacker's page: a form (text/plain, which needs no permission) that starts a
            // run (its body: {"prompt":"pwned","tests":"x="}), and a no-cors fetch that replaces
            // a prompt, both sent as soon as it loads.
            const hostile = createServer((_req, res) => {
              res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
              res.end(`<!doctype html><title>cute cats</title>
                <form method="post" enctype="text/plain" action="${served.url}/api/runs">
                  <input name='{"prompt":"pwned","tests":"x' value='"}'></form>
                <script>
                  fetch("${served.url}/prompts", { method: "POST", mode: "no-cors",
                    body: JSON.stringify({ generate_code_prompt: "PWNED {{limits}}" }) })
                    .finally(() => document.forms[0].submit());
                </script>`);
            });
            const evilPort = await listenLoopback(hostile);
            // evil.example resolves to this machine, as a rebinding attacker's DNS makes it.
            const attacked = await startBrowser("chromium", [
              "--host-resolver-rules=MAP evil.example 127.0.0.1",
            ]);
            try {
              const page = await attacked.newPage();
              // Rebound: the attacker's name leads to azlon's port, its page same-origin with the API.
              expect((await page.goto(`http://evil.example:${port}/`))?.status()).toBe(403);
              expect((await page.goto(`http://evil.example:${port}/api/runs`))?.status()).toBe(403);
              const answers: Array<[string, number]> = [];
              const both = new Promise<void>((resolve) => {
                page.on("response", (response) => {
                  if (!response.url().startsWith(served.url)) return;
                  answers.push([new URL(response.url()).pathname, response.status()]);
                  if (answers.length === 2) resolve();
                });
              });
              await page.goto(`http://evil.example:${evilPort}/`);
              await both;
              expect(answers.sort()).toEqual([
                ["/api/runs", 403],
                ["/prompts", 403],
              ]);
              expect(existsSync(out) ? readdirSync(out).filter((n) => !n.startsWith(".")) : []).toEqual([]);
              expect(await (await fetch(`${served.url}/prompts`)).text()).toBe(prompts);
            } finally {
              await attacked.close();
              await closeServer(hostile);
              served.child.kill("SIGTERM");
              await served.done;
            }
          });
      },
      which,
    );
});
