import { zodResponseFormat } from "openai/helpers/zod";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { extractJson, parseReply } from "../../src/model/reply.js";
import {
  GenerationReply,
  GenerationSchema,
  SourceGenerationReply,
  SourceGenerationSchema,
  VerdictReply,
  VerdictSchema,
} from "../../src/model/schemas.js";

const generation = {
  plan: "prints sum=5",
  dockerfile: 'FROM python:3.12-slim\nCOPY . .\nENTRYPOINT ["python", "main.py"]\n',
  files: [{ path: "main.py", content: "print('sum=5')\n" }],
};
const json = JSON.stringify(generation);
const pretty = JSON.stringify(generation, null, 2);

const passed = {
  passed: true,
  reason: "all checks print PASS",
  evidence: ["CHECK sum: PASS"],
  dockerfile: null,
  files: null,
  delete: null,
};

describe("extractJson", () => {
  it.each([
    ["plain JSON", json],
    ["JSON with surrounding whitespace", `\n\n  ${pretty}\n `],
    ["a ```json fence", `\`\`\`json\n${pretty}\n\`\`\``],
    ["a bare ``` fence", `\`\`\`\n${pretty}\n\`\`\``],
    ["a fence with trailing blank lines", `\`\`\`json\n${pretty}\n\`\`\`\n\n`],
    ["prose before and after", `Here is the project:\n${pretty}\nLet me know if you need more.`],
    ["prose around a fence", `Sure! Here it is:\n\`\`\`json\n${pretty}\n\`\`\`\nHope this helps.`],
    ["a one-line fence", `\`\`\`${json}\`\`\``],
  ])("finds the object in %s", (_name, text) => {
    expect(JSON.parse(extractJson(text))).toEqual(generation);
  });

  it("keeps code fences that are inside the JSON strings (a README with a code block)", () => {
    const withFence = {
      ...generation,
      files: [{ path: "README.md", content: "Run:\n```sh\ndocker run app\n```\n" }],
    };
    const text = `\`\`\`json\n${JSON.stringify(withFence, null, 2)}\n\`\`\``;
    expect(JSON.parse(extractJson(text))).toEqual(withFence);
  });

  it("returns text without an object as it is, for the parser to report", () => {
    expect(extractJson("  I cannot help with that.  ")).toBe("I cannot help with that.");
  });
});

describe("parseReply", () => {
  it("accepts a valid generation, fenced or not", () => {
    expect(parseReply(json, GenerationReply)).toEqual({
      ok: true,
      value: { ...generation, edits: null, read: null },
    });
    expect(parseReply(`\`\`\`json\n${pretty}\n\`\`\``, GenerationReply)).toEqual({
      ok: true,
      value: { ...generation, edits: null, read: null },
    });
  });

  it("accepts a passing verdict with nulls", () => {
    expect(parseReply(JSON.stringify(passed), VerdictReply)).toEqual({
      ok: true,
      value: { ...passed, edits: null, read: null },
    });
  });

  it.each([
    ["empty", ""],
    ["blank", "  \n\t "],
    ["null", null],
    ["undefined", undefined],
  ])("an %s reply is a problem that says it was empty", (_name, text) => {
    expect(parseReply(text, GenerationReply)).toEqual({
      ok: false,
      problem: "the reply was empty; it must be one JSON object",
    });
  });

  it.each([
    ["truncated JSON", json.slice(0, -10)],
    ["trailing commas", '{"plan": "x", "dockerfile": "y", "files": [],}'],
    ["single quotes", "{'plan': 'x'}"],
    ["prose only", "I'm sorry, I can't do that."],
  ])("%s is reported as invalid JSON", (_name, text) => {
    const result = parseReply(text, GenerationReply);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toMatch(/^the reply is not valid JSON \(.+\); it must be one JSON object/);
    }
  });

  it("a missing field is named by its path", () => {
    const result = parseReply(JSON.stringify({ plan: "p", files: [] }), GenerationReply);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toMatch(/^the JSON does not match the schema: /);
      expect(result.problem).toContain("dockerfile:");
    }
  });

  it("a wrong field deep inside is named by its full path", () => {
    const bad = { ...generation, files: [{ path: "a.py", content: "x" }, { path: "b.py" }] };
    const result = parseReply(JSON.stringify(bad), GenerationReply);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain("files.1.content:");
  });

  it("a wrong type is named ('passed' as a string)", () => {
    const result = parseReply(JSON.stringify({ ...passed, passed: "yes" }), VerdictReply);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain("passed:");
  });

  it("a verdict that leaves out the nullable fields is told which ones", () => {
    const result = parseReply(JSON.stringify({ passed: false, reason: "r", evidence: [] }), VerdictReply);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toContain("dockerfile:");
      expect(result.problem).toContain("files:");
      expect(result.problem).toContain("delete:");
    }
  });

  it("an extra key is reported against the root, naming the key", () => {
    const result = parseReply(JSON.stringify({ ...generation, notes: "extra" }), GenerationReply);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toContain("(the root)");
      expect(result.problem).toContain("notes");
    }
  });

  it("an array instead of an object is a schema problem at the root", () => {
    const result = parseReply("[1, 2]", GenerationReply);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain("(the root):");
  });

  it("edits are read as sent, in order", () => {
    const edits = [
      { path: "main.py", search: "sum=5", replace: "sum=6" },
      { path: "Dockerfile", search: "3.12", replace: "3.13" },
    ];
    expect(parseReply(JSON.stringify({ ...passed, passed: false, edits }), VerdictReply)).toEqual({
      ok: true,
      value: { ...passed, passed: false, edits, read: null },
    });
  });

  it("an ask to read is read as sent; a reply that leaves read out asks for nothing", () => {
    const read = ["src/deep/mod.py", "README.md"];
    expect(parseReply(JSON.stringify({ ...passed, passed: false, read }), VerdictReply)).toEqual({
      ok: true,
      value: { ...passed, passed: false, edits: null, read },
    });
  });

  it("a generation from the user's project may keep its Dockerfile (null); a new project's may not", () => {
    const keep = JSON.stringify({ ...generation, dockerfile: null, edits: null, read: null });
    expect(parseReply(keep, SourceGenerationReply)).toMatchObject({ ok: true, value: { dockerfile: null } });
    expect(parseReply(keep, GenerationReply).ok).toBe(false);
  });

  it("an edit without its replace text is named by its path, so the model can resend it", () => {
    const edits = [{ path: "main.py", search: "sum=5" }];
    const result = parseReply(JSON.stringify({ ...generation, edits }), GenerationReply);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain("edits.0.replace:");
  });

  it("the schema the model is asked for requires edits and read (nullable), as strict structured outputs need", () => {
    for (const schema of [GenerationSchema, SourceGenerationSchema, VerdictSchema]) {
      const json = z.toJSONSchema(schema) as { required: string[]; properties: Record<string, unknown> };
      expect(json.required).toContain("edits");
      expect(json.required).toContain("read");
      expect(JSON.stringify(json.properties.edits)).toContain('"search"');
      const format = zodResponseFormat(schema, "answer");
      expect(format.json_schema.strict).toBe(true);
    }
  });

  it("lists at most 8 issues, so the repair message stays short", () => {
    const files = Array.from({ length: 20 }, () => ({ path: 1, content: 2 }));
    const result = parseReply(JSON.stringify({ ...generation, files }), GenerationReply);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.split("; ")).toHaveLength(8);
  });
});
