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
});
