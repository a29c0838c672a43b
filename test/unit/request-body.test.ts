import { describe, expect, it } from "vitest";
import { requestBody } from "../../src/model/openai-model.js";
import { VerdictSchema } from "../../src/model/schemas.js";

describe("the Chat Completions request body", () => {
  it("runs from the most stable part to the least: the messages come last", () => {
    const body = requestBody(
      { model: "m", temperature: 0.2, baseUrl: "http://127.0.0.1:8080/v1", maxReplyTokens: 100 },
      [{ role: "user", content: "round 3" }],
      { schema: VerdictSchema, name: "verdict" },
    );
    expect(Object.keys(body)).toEqual([
      "model",
      "response_format",
      "temperature",
      "max_completion_tokens",
      "max_tokens",
      "messages",
    ]);
    // As sent: everything before the messages is the same from call to call.
    const json = JSON.stringify(body);
    expect(json.indexOf('"messages"')).toBeGreaterThan(json.indexOf('"response_format"'));
  });

  it("the verdict schema says what the rules say: evidence is a line the program or a check printed, as printed", () => {
    const body = requestBody(
      { model: "m", temperature: null, baseUrl: "http://127.0.0.1:8080/v1", maxReplyTokens: null },
      [{ role: "user", content: "round 1" }],
      { schema: VerdictSchema, name: "verdict" },
    );
    const sent = JSON.stringify(body.response_format);
    expect(sent).toContain("Lines the program or a check printed, each whole and as printed, one per string");
    // Not only the program's output: a check's line counts too, as the judge's rules say.
    expect(sent).not.toContain("copied exactly from the program's output");
  });
});
