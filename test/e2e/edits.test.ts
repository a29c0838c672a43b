import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeDocker } from "../helpers/docker.js";
import { loopbackModel, runArgs } from "../helpers/e2e.js";
import { fail, generation, lastUserMessage, pass } from "../helpers/fake-openai.js";
import { BUSYBOX } from "../helpers/images.js";
import { onlyRunDir } from "../helpers/run-folder.js";
import { tempDir } from "../helpers/tmp.js";

const { server, images } = loopbackModel();

// A script of some size with a typo on one line: the fix is one edit, not the file again.
const PADDING = "# a comment line that pads the script to a realistic size\n".repeat(600);
const SCRIPT = `${PADDING}echo "hello, wrld"\n`;
const DOCKERFILE = `FROM ${BUSYBOX}\nCOPY hello.sh /hello.sh\nENTRYPOINT ["sh", "/hello.sh"]\n`;

async function run(extra: string[]) {
  const cwd = tempDir();
  const out = join(cwd, "runs");
  const result = await runCli(
    runArgs(server, out, extra, { prompt: "greet", tests: "prints hello, world" }),
    {
      cwd,
      env: { OPENAI_API_KEY: "sk-test-edits-000000" },
    },
  );
  const json = result.stdout.trim() ? JSON.parse(result.stdout) : null;
  if (json?.image) images.push(json.image);
  return { ...result, json, dir: existsSync(out) ? onlyRunDir(out) : null };
}

describeDocker("edits (real engine, loopback model)", () => {
  it.each([
    ["json_schema", []],
    ["plain JSON (--structured-output json)", ["--structured-output", "json"]],
  ])(
    "in %s mode a one-line edit fixes the file; an edit whose text is not there is told to the next judge",
    async (_mode, extra) => {
      server.enqueue(
        generation(DOCKERFILE, { "hello.sh": SCRIPT }),
        fail(
          "prints hello, wrld",
          {
            edits: [
              { path: "hello.sh", search: 'echo "hello, wrld"', replace: 'echo "hello, world"' },
              { path: "hello.sh", search: 'echo "goodbye"', replace: "" },
            ],
          },
          ["hello, wrld"],
        ),
        pass(["hello, world"]),
      );
      const r = await run(extra);
      expect(r.code, r.stderr).toBe(0);
      const dir = r.dir as string;
      expect(readFileSync(join(dir, "workspace/hello.sh"), "utf8")).toBe(SCRIPT.replace("wrld", "world"));
      const judged = lastUserMessage(server.chatRequests[2]);
      expect(judged).toContain("- hello.sh: edit 2 refused: the search text occurs 0 times in the file");
      const first = server.chatRequests[0]?.body;
      if (extra.length) {
        // Plain-JSON mode: the schema the model must follow, edits in it, is in the system prompt.
        expect(first?.response_format).toBeUndefined();
        expect(first?.messages[0]?.content).toMatch(/JSON Schema[\s\S]*"edits"[\s\S]*"search"/);
      } else {
        const schema = JSON.stringify(first?.response_format?.json_schema?.schema);
        expect(schema).toContain('"edits"');
        expect(first?.response_format?.json_schema?.strict).toBe(true);
      }
      expect(r.stderr).toContain("edit 2 refused");
    },
  );
});
