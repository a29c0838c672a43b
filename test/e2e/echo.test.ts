import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { fail, generation, lastUserMessage, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { onlyRunDir, readJournal } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const KEY = "sk-test-echo-5a4b3c2d1e";
const { server, images } = loopbackModel();

const DOCKERFILE = `FROM ${BUSYBOX}\nCOPY hello.sh /hello.sh\nENTRYPOINT ["sh", "/hello.sh"]\n`;
const hello = (extra: Record<string, string> = {}) =>
  generation(DOCKERFILE, { "hello.sh": 'echo "hello, world"\n', ...extra });

/** Sets the window title, writes the clipboard (OSC 52), clears the screen, turns text red (8-bit CSI). */
const HOSTILE = "\u001b]0;pwned-title\u0007\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\u001b[H\u009b31m";
/** Anything a terminal acts on: C0 but newline, DEL, C1 (NO_COLOR is set: azlon prints no codes). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

async function run(extra: string[] = [], json = true) {
  const cwd = tempDir();
  const out = join(cwd, "runs");
  const args = runArgs(server, out, extra).filter((a) => json || a !== "--json");
  const result = await runCli(args, { cwd, env: { OPENAI_API_KEY: KEY } });
  if (json && result.stdout.trim()) {
    const image = JSON.parse(result.stdout).image;
    if (image) images.push(image);
  }
  return { ...result, dir: onlyRunDir(out) };
}

describeDocker(
  "hostile and huge model text is shown safely and echoed bounded (real engine, loopback model)",
  () => {
    it("escape sequences in verdict reasons reach neither stderr nor the summary; the journal keeps them escaped", async () => {
      server.enqueue(
        hello(),
        fail(`it prints the wrong thing${HOSTILE}`),
        pass(["hello, world"], `all good${HOSTILE}`),
      );
      const r = await run([], false);
      expect(r.code, r.stderr).toBe(0);
      images.push(JSON.parse(readFileSync(join(r.dir, "run.json"), "utf8")).image);
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toMatch(ACTIVE);
        expect(text).not.toContain("52;c;");
      }
      expect(r.stderr).toContain("not passed: it prints the wrong thing");
      expect(r.stdout).toContain("reason      all good");
      const raw = readFileSync(join(r.dir, "events.jsonl"), "utf8");
      expect(raw).not.toMatch(ACTIVE);
      expect(raw).toContain("\\u001b]52;c;");
      expect(raw).toContain("\\u009b31m");
      const verdicts = readJournal(r.dir).filter((e) => e.type === "verdict");
      expect(verdicts[0]?.reason).toBe(`it prints the wrong thing${HOSTILE}`);
    });

    it("with --json the result escapes them too, C1 included, and still parses to the reason", async () => {
      server.enqueue(hello(), pass(["hello, world"], `all good${HOSTILE}`));
      const r = await run();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(ACTIVE);
      expect(r.stderr).not.toMatch(ACTIVE);
      expect(JSON.parse(r.stdout).reason).toBe(`all good${HOSTILE}`);
      expect(readFileSync(join(r.dir, "run.json"), "utf8")).not.toMatch(ACTIVE);
    });

    it("an endpoint error holding escape sequences is printed without them (exit 3)", async () => {
      server.enqueue({
        status: 401,
        error: { message: `Incorrect API key${HOSTILE}`, type: "invalid_request_error" },
      });
      const r = await run([], false);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("rejected the API key");
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toMatch(ACTIVE);
        expect(text).not.toContain("52;c;");
      }
    });

    it("a 2 MiB path and 5,000 refused paths are echoed bounded: stderr, run.json, the journal, the next request", async () => {
      const huge = `${"p".repeat(2 * 2 ** 20)}.sh`;
      const refused = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`../escape-${i}.sh`, "x"]));
      server.enqueue(hello({ [huge]: "x", ...refused }), pass(["hello, world"]));
      const r = await run();
      expect(r.code, r.stderr).toBe(0);
      const piece = huge.slice(0, 10_000);
      const texts = {
        stderr: r.stderr,
        stdout: r.stdout,
        runJson: readFileSync(join(r.dir, "run.json"), "utf8"),
        journal: readFileSync(join(r.dir, "events.jsonl"), "utf8"),
        judgeRequest: JSON.stringify(server.chatRequests[1]?.body),
      };
      for (const [where, text] of Object.entries(texts)) {
        expect(text.includes(piece), `${where} holds the whole path`).toBe(false);
      }
      expect(texts.stderr.length).toBeLessThan(10_000);
      expect(texts.stderr.match(/refused "/g)).toHaveLength(21);
      expect(texts.stderr).toContain('refused "(4981 more)"');
      expect(texts.stderr).toContain(`(${huge.length - 200} more characters)`);
      expect(texts.runJson.length).toBeLessThan(50_000);
      expect(texts.journal.length).toBeLessThan(50_000);
      const judged = lastUserMessage(server.chatRequests[1]);
      expect(judged).toContain("- ../escape-0.sh: escapes the workspace");
      expect(judged).toContain(`(${huge.length - 200} more characters): is too long`);
      expect(judged).toContain("- (4981 more): refused too; only the first 20 refusals are listed");
      expect(judged.length).toBeLessThan(20_000);
    });
  },
);
