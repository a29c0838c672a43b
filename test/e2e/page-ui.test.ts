import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeBrowser, startBrowser } from "../helpers/browser.js";
import { FakeServe } from "../helpers/fake-serve.js";
import { HOSTILE } from "../helpers/run-fixtures.js";

const ID = "20261125-greet-abc123";
const usage = { promptTokens: 1234, completionTokens: 567, cachedTokens: 0 };
const summary = {
  id: ID,
  status: "failed",
  stopReason: "max-iterations",
  reason: `no pass: ${HOSTILE}`,
  iterations: 1,
  maxIterations: 1,
  phase: null,
  createdAt: "2026-11-25T04:00:00.000Z",
  updatedAt: "2026-11-25T04:01:00.000Z",
  prompt: `a page ${HOSTILE}`,
  image: null,
  costUsd: 0.0123,
  usage,
};
const round = {
  iteration: 1,
  build: { ok: true, timedOut: false, durationMs: 900 },
  exec: {
    exitCode: 1,
    timedOut: false,
    oomKilled: false,
    signal: null,
    durationMs: 30,
    outputBytes: 40,
    truncated: false,
  },
  checks: { passed: 0, total: 1, serviceReady: null },
  verdict: { passed: false, accepted: false, reason: HOSTILE },
};
const detail = {
  ...summary,
  prompt: `a page ${HOSTILE}`,
  tests: "it says hello",
  checks: ["grep -q hello /app/page.html"],
  verdict: "both",
  progress: { iteration: 1, step: "done" },
  iterationSummaries: [round],
  result: null,
  change: {
    path: "/runs/x/changes.patch",
    text: `diff --git a/page.html b/page.html\n--- a/page.html\n+++ b/page.html\n@@ -1 +1,2 @@\n <p>hi</p>\n+${HOSTILE}\n`,
    bytes: 120,
    truncated: false,
  },
};
const iteration = {
  iteration: 1,
  summary: round,
  buildLogTail: "",
  outputTail: `hello ${HOSTILE}\n`,
  checks: {
    service: null,
    results: [
      {
        command: "grep -q hello /app/page.html",
        exitCode: 1,
        timedOut: false,
        passed: false,
        problem: "exit 1",
        output: { text: HOSTILE, totalBytes: 10, truncated: false },
        durationMs: 5,
      },
    ],
  },
  verdict: { passed: false, accepted: false, reason: HOSTILE, evidence: [HOSTILE], rejections: [] },
  changes: [{ path: "page.html", before: "<p>hi</p>\n", after: `<p>hi</p>\n${HOSTILE}\n` }],
};

function scriptedApi(): FakeServe {
  return new FakeServe()
    .on("GET /api/runs", { json: { runs: [summary], total: 1 } })
    .on("GET /api/config", {
      json: {
        projectsRoot: "/srv/projects",
        model: "gpt-test",
        endpoint: "http://127.0.0.1:9/v1?key=***",
        maxIterations: 7,
        maxCost: null,
        verdict: null,
      },
    })
    .on("POST /api/runs", (req) =>
      (req.body as { prompt?: string }).prompt === "bad"
        ? {
            status: 400,
            json: { error: { message: "maxIterations must be at least 1", field: "options.maxIterations" } },
          }
        : { status: 202, json: { id: ID, status: "queued", url: `/api/runs/${ID}` } },
    )
    .on(`GET /api/runs/${ID}`, { json: detail })
    .on(`GET /api/runs/${ID}/events`, {
      events: [
        JSON.stringify({ type: "phase", phase: "build", iteration: 1 }),
        JSON.stringify({
          type: "verdict",
          iteration: 1,
          passed: false,
          accepted: false,
          reason: HOSTILE,
          evidence: [],
          decidedBy: "both",
        }),
      ],
    })
    .on(`GET /api/runs/${ID}/iterations/1`, { json: iteration })
    .on(`GET /api/runs/${ID}/files`, { json: { files: [{ path: "page.html", bytes: 60 }] } })
    .on(`GET /api/runs/${ID}/files/page.html`, { text: `<p>hi</p>\n${HOSTILE}\n` })
    .on("GET /api/prompts", {
      json: {
        templates: { generateSystem: { text: "You write {{prompt}}", source: "default" } },
        placeholders: { generateSystem: ["prompt"] },
      },
    })
    .on("PUT /api/prompts", {
      status: 400,
      json: {
        error: {
          message: 'generateSystem: unknown placeholder "{{nope}}"',
          field: "templates.generateSystem",
        },
      },
    });
}

for (const which of ["chromium", "firefox"] as const) {
  describeBrowser(
    `the web page's own logic, in ${which}, against a scripted API`,
    () => {
      const api = scriptedApi();
      let browser: Browser;
      let page: Page;
      const scriptErrors: string[] = [];
      beforeAll(async () => {
        await api.start();
        browser = await startBrowser(which);
        page = await browser.newPage();
        page.on("pageerror", (error) => {
          scriptErrors.push(String(error));
        });
        page.on("dialog", (dialog) => {
          throw new Error(`a script from the model's text ran: ${dialog.message()}`);
        });
      });
      afterAll(async () => {
        // No script error in the page, in any of the tests.
        expect(scriptErrors).toEqual([]);
        await browser?.close();
        await api.stop();
      });

      it("takes the token from #token= out of the address bar and sends it as a header", async () => {
        await page.goto(`${api.url}/#token=t0ken`);
        await page.waitForSelector("#runs-body tr");
        expect(new URL(page.url()).hash).toBe("#/");
        const list = api.requests.find((r) => r.path.startsWith("/api/runs?"));
        expect(list?.authorization).toBe("Bearer t0ken");
      });

      it("starts a run from the keyboard: fields named prompt and tests, Ctrl+Enter submits, the run's page opens", async () => {
        await page.goto(`${api.url}/#/`);
        await page.focus("textarea[name=prompt]");
        await page.keyboard.type("a script that greets");
        await page.keyboard.press("Tab");
        await page.keyboard.type("it prints hello");
        await page.type("#checks", "sh /azlon/checks/t.sh\n\n");
        await page.type("#maxIterations", "2");
        await page.focus("#tests");
        await page.keyboard.down("Control");
        await page.keyboard.press("Enter");
        await page.keyboard.up("Control");
        await page.waitForFunction(`location.hash === "#/runs/${ID}"`);
        const post = api.requests.find((r) => r.method === "POST" && r.path === "/api/runs");
        expect(post?.body).toEqual({
          prompt: "a script that greets",
          tests: "it prints hello",
          checks: ["sh /azlon/checks/t.sh"],
          options: { maxIterations: 2 },
        });
        expect(post?.authorization).toBe("Bearer t0ken");
      });

      it("shows the run: status, verdict, evidence, checks, output, diff and files, the model's markup as text", async () => {
        await page.goto(`${api.url}/#/runs/${ID}`);
        await page.waitForSelector("details[data-round='1'] .diff");
        await page.click("#run-files summary");
        await page.waitForSelector("#run-files pre");
        const text = await page.$eval("#view-run", (el) => el.textContent ?? "");
        expect(text).toContain("failed");
        expect(text).toContain("checks: 0/1 passed");
        expect(text).toContain('<script>alert("x")</script>');
        expect(text).toContain("1,234 prompt");
        expect(
          await page.$$eval("#run-rounds .diff-row.add", (rows) => rows.map((r) => r.textContent)),
        ).toEqual([`+ ${HOSTILE}`]);
        // A run from the user's project: its change against the snapshot, as text.
        expect(await page.$eval("#run-change h2", (el) => el.textContent)).toBe("Change to your project");
        expect(
          await page.$$eval("#run-change .diff-row.add", (rows) => rows.map((r) => r.textContent)),
        ).toEqual([`+${HOSTILE}`]);
        // Only the page's own script element; no element the model's text could have made.
        expect(await page.$$eval("script", (s) => s.length)).toBe(1);
        expect(await page.$$eval("#main img", (s) => s.length)).toBe(0);
        // The events stream was asked with the token as a query parameter (EventSource sends no headers).
        expect(api.requests.some((r) => r.path === `/api/runs/${ID}/events?token=t0ken`)).toBe(true);
        const log = await page.$eval("#run-events", (el) => el.textContent ?? "");
        expect(log).toContain("round 1: build");
      });

      it("is usable from the keyboard: the skip link moves to the content, focus is visible", async () => {
        await page.goto(`${api.url}/#/runs`);
        await page.reload();
        await page.waitForSelector("#runs-body tr");
        await page.keyboard.press("Tab");
        expect(await page.evaluate("document.activeElement.id")).toBe("skip-link");
        await page.keyboard.press("Enter");
        expect(await page.evaluate("document.activeElement.id")).toBe("main");
        expect(new URL(page.url()).hash).toBe("#/runs");
        // Tab on to a control: its focus ring shows.
        await page.focus("#refresh-runs");
        await page.keyboard.down("Shift");
        await page.keyboard.press("Tab");
        await page.keyboard.up("Shift");
        await page.keyboard.press("Tab");
        expect(await page.evaluate("document.activeElement.id")).toBe("refresh-runs");
        expect(await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")).toBe("solid");
      });

      it("starts a run from a project under the server's root, saying what the checks need", async () => {
        await page.goto(`${api.url}/#/`);
        await page.waitForSelector("#from-field:not([hidden])");
        // A fresh form: the last test's words stay in the open page.
        await page.$eval("#new-run", (form) => (form as unknown as { reset(): void }).reset());
        expect(await page.$eval("#from-hint", (el) => el.textContent)).toContain("/srv/projects");
        await page.type("#prompt", "add a --json flag");
        await page.type("#tests", "app --json prints JSON");
        await page.type("#checksNeed", "python3 and PyYAML");
        await page.type("#from", "shop/api");
        await page.click("#start");
        await page.waitForFunction(`location.hash === "#/runs/${ID}"`);
        const post = api.requests.filter((r) => r.method === "POST" && r.path === "/api/runs").at(-1);
        expect(post?.body).toEqual({
          prompt: "add a --json flag",
          tests: "app --json prints JSON",
          from: "shop/api",
          options: { checksNeed: "python3 and PyYAML" },
        });
      });

      it("says which model and endpoint a new run gets when the options are left empty", async () => {
        await page.goto(`${api.url}/#/`);
        await page.waitForFunction('document.getElementById("server-defaults").textContent !== ""');
        expect(await page.$eval("#server-defaults", (el) => el.textContent)).toBe(
          "Runs ask gpt-test at http://127.0.0.1:9/v1?key=***, for up to 7 iterations, unless you say otherwise here.",
        );
        expect(await page.$eval("#model", (el) => el.getAttribute("placeholder"))).toBe("gpt-test");
        expect(await page.$eval("#maxIterations", (el) => el.getAttribute("placeholder"))).toBe("7");
      });

      it("shows the server's 400 message for the form and for a prompt template", async () => {
        await page.goto(`${api.url}/#/`);
        // Empty the form (a reload would not: Firefox restores what was typed).
        await page.evaluate('document.getElementById("new-run").reset()');
        await page.type("#prompt", "bad");
        await page.type("#tests", "x");
        // Enter in a one-line field submits the form.
        await page.type("#model", "gpt-test");
        await page.keyboard.press("Enter");
        await page.waitForFunction('document.getElementById("form-error").textContent !== ""');
        expect(await page.$eval("#form-error", (el) => el.textContent)).toBe(
          "maxIterations must be at least 1",
        );
        expect(await page.evaluate("document.activeElement.id")).toBe("maxIterations");

        await page.goto(`${api.url}/#/prompts`);
        await page.waitForSelector("#prompt-generateSystem");
        await page.type("#prompt-generateSystem", " {{nope}}");
        await page.click("#save-prompts");
        await page.waitForFunction('document.getElementById("prompts-error").textContent !== ""');
        expect(await page.$eval("#prompts-error", (el) => el.textContent)).toContain(
          'unknown placeholder "{{nope}}"',
        );
      });
    },
    which,
  );
}
