import { APIConnectionError, APIConnectionTimeoutError, APIError, BadRequestError } from "openai";
import { describe, expect, it } from "vitest";
import { AbortedError, EndpointError, ModelReplyError } from "../../src/core/errors.js";
import { mapApiError } from "../../src/model/api-errors.js";
import { isContextLengthError, serverPromptTokens } from "../../src/model/context-errors.js";
import { replyCapFields } from "../../src/model/reply-cap.js";
import { askedWaitMs, isRetryable, retryPlan, waitAbortably } from "../../src/model/retry.js";
import { describeNetworkError, ReplyBrokenError, ReplyTooLargeError } from "../../src/model/transport.js";

const headers = (h: Record<string, string>) => new Headers(h);
const status = (code: number, body: object, h: Record<string, string> = {}) =>
  APIError.generate(code, { error: body }, undefined, headers(h));
/** undici's "fetch failed" with the system error a cause or two down. */
const fetchFailed = (code: string, message: string) =>
  new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });
const info = { baseUrl: "http://localhost:8080/v1", model: "m", retries: 2 };

describe("Retry-After and the retry plan", () => {
  it("reads retry-after-ms, Retry-After in seconds, and Retry-After as a date", () => {
    expect(askedWaitMs(headers({ "retry-after-ms": "250" }))).toBe(250);
    expect(askedWaitMs(headers({ "retry-after": "3600" }))).toBe(3_600_000);
    const now = Date.parse("2026-11-25T10:00:00Z");
    expect(askedWaitMs(headers({ "retry-after": "Wed, 25 Nov 2026 10:00:30 GMT" }), now)).toBe(30_000);
    expect(askedWaitMs(headers({}))).toBeNull();
    expect(askedWaitMs(headers({ "retry-after": "soon" }))).toBeNull();
  });

  it("caps an hour-long Retry-After at maxRetryWait, keeping what was asked", () => {
    const error = status(429, { message: "slow down" }, { "retry-after": "3600" });
    expect(retryPlan(error, 1, 60_000)).toEqual({ waitMs: 60_000, askedMs: 3_600_000 });
    expect(retryPlan(error, 1, 0)).toEqual({ waitMs: 0, askedMs: 3_600_000 });
  });

  it("backs off without a Retry-After, and never beyond maxRetryWait", () => {
    const error = status(503, { message: "busy" });
    const first = retryPlan(error, 1, 60_000);
    expect(first?.waitMs).toBeGreaterThanOrEqual(375);
    expect(first?.waitMs).toBeLessThanOrEqual(500);
    expect(retryPlan(error, 9, 60_000)?.waitMs).toBeLessThanOrEqual(8000);
    expect(retryPlan(error, 9, 100)?.waitMs).toBeLessThanOrEqual(100);
  });

  it("retries what the SDK retries, but not a reply too large or a 4xx", () => {
    expect(isRetryable(status(429, {}))).toBe(true);
    expect(isRetryable(status(500, {}))).toBe(true);
    expect(isRetryable(status(408, {}))).toBe(true);
    expect(isRetryable(status(400, {}))).toBe(false);
    expect(isRetryable(status(401, {}))).toBe(false);
    expect(isRetryable(status(503, {}, { "x-should-retry": "false" }))).toBe(false);
    expect(isRetryable(new APIConnectionError({ cause: new ReplyBrokenError("reset") }))).toBe(true);
    expect(isRetryable(new APIConnectionTimeoutError())).toBe(true);
    expect(isRetryable(new APIConnectionError({ cause: new ReplyTooLargeError(1024) }))).toBe(false);
  });

  it("a wait ends at once when the run's signal fires, as an AbortedError", async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new AbortedError("max-time")), 50);
    await expect(waitAbortably(3_600_000, controller.signal)).rejects.toMatchObject({ why: "max-time" });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("unreachable endpoints are named for why", () => {
  it.each([
    ["ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:8080", "refused", "connection refused (127.0.0.1:8080)"],
    ["ENOTFOUND", "getaddrinfo ENOTFOUND llm.internal", "dns", "does not resolve"],
    ["EAI_AGAIN", "getaddrinfo EAI_AGAIN llm.internal", "dns", "does not resolve"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate", "tls", "TLS failed: self-signed certificate"],
    [
      "ERR_SSL_WRONG_VERSION_NUMBER",
      "x:error:0A00010B:SSL routines:f:wrong version number:y",
      "tls",
      "is it http://",
    ],
    ["ECONNRESET", "read ECONNRESET", "reset", "reset"],
  ])("%s", (code, message, fault, text) => {
    const described = describeNetworkError(fetchFailed(code, message));
    expect(described.fault).toBe(fault);
    expect(described.text).toContain(text);
  });

  it("maps each to a one-line cause and fix, not 'fetch failed'", () => {
    const refused = mapApiError(
      new APIConnectionError({ cause: fetchFailed("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:8080") }),
      info,
    ) as EndpointError;
    expect(refused).toBeInstanceOf(EndpointError);
    expect(refused.message).toBe(
      "cannot reach the endpoint at http://localhost:8080/v1: connection refused (127.0.0.1:8080)",
    );
    expect(refused.hint).toContain("running");
    const dns = mapApiError(
      new APIConnectionError({ cause: fetchFailed("ENOTFOUND", "getaddrinfo ENOTFOUND x") }),
      info,
    );
    expect((dns as EndpointError).hint).toContain("host name");
  });

  it("a reply that broke off is an endpoint fault (exit 3); one too large is the model's (exit 1)", () => {
    const broken = mapApiError(
      new APIConnectionError({ cause: new ReplyBrokenError("the connection was reset") }),
      info,
    );
    expect(broken).toBeInstanceOf(EndpointError);
    expect((broken as EndpointError).message).toContain(
      "broke off mid-way (the connection was reset), after 2 retries",
    );
    const large = mapApiError(new APIConnectionError({ cause: new ReplyTooLargeError(32 * 2 ** 20) }), info);
    expect(large).toBeInstanceOf(ModelReplyError);
    expect((large as ModelReplyError).message).toContain("32 MiB");
  });

  it("a timeout names modelTimeout", () => {
    const error = mapApiError(new APIConnectionTimeoutError(), {
      ...info,
      timeoutMs: 600_000,
    }) as EndpointError;
    expect(error.message).toContain("within modelTimeout (600 s), after 2 retries");
  });

  it("a 429 that asked for longer than maxRetryWait says so", () => {
    const error = mapApiError(status(429, { message: "Rate limit" }, { "retry-after": "3600" }), {
      ...info,
      maxRetryWaitMs: 60_000,
      askedWaitMs: 3_600_000,
    }) as EndpointError;
    expect(error).toBeInstanceOf(EndpointError);
    expect(error.message).toContain("asked to wait 3600 s, longer than maxRetryWait (60 s)");
  });
});

describe("a context that is too small", () => {
  const prompt = { chars: 40_000, replyTokens: 16_384 };
  const cases: Array<[string, object]> = [
    [
      "llama.cpp",
      {
        code: 400,
        message: "request (12192 tokens) exceeds the available context size (8192 tokens), try increasing it",
        type: "exceed_context_size_error",
        n_prompt_tokens: 12192,
        n_ctx: 8192,
      },
    ],
    [
      "vLLM",
      {
        message:
          "This model's maximum context length is 8192 tokens. However, you requested 26384 tokens (10000 in the messages, 16384 in the completion). Please reduce the length of the messages or completion.",
        type: "BadRequestError",
        code: 400,
      },
    ],
    [
      "OpenAI",
      {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
        type: "invalid_request_error",
        code: "context_length_exceeded",
      },
    ],
  ];
  it.each(cases)(
    "%s: the context fix with the prompt's size, never the json_schema hint",
    (_server, body) => {
      const error = status(400, body);
      expect(isContextLengthError(error)).toBe(true);
      const mapped = mapApiError(error, { ...info, prompt }) as EndpointError;
      expect(mapped).toBeInstanceOf(EndpointError);
      expect(mapped.message).toContain("does not fit the model's context");
      expect(mapped.message).toContain("40,000 characters");
      expect(mapped.hint).toMatch(/llama-server -c \d+/);
      expect(mapped.hint).toContain("num_ctx");
      expect(mapped.hint).toContain("--max-model-len");
      expect(mapped.hint).not.toContain("structuredOutput");
    },
  );

  it("takes the server's count of the prompt's tokens when it gives one", () => {
    expect(serverPromptTokens(status(400, cases[0]?.[1] ?? {}) as APIError)).toBe(12192);
    expect(serverPromptTokens(status(400, cases[1]?.[1] ?? {}) as APIError)).toBe(10000);
    expect(serverPromptTokens(status(400, cases[2]?.[1] ?? {}) as APIError)).toBe(130000);
    const hint = (mapApiError(status(400, cases[0]?.[1] ?? {}), { ...info, prompt }) as EndpointError).hint;
    expect(hint).toContain("-c 32768"); // 12,192 + 16,384 rounded up
  });

  it("gives the json_schema hint only for a 400 about the response format", () => {
    const format = mapApiError(
      new BadRequestError(
        400,
        { message: "response_format json_schema is not supported" },
        undefined,
        headers({}),
      ),
      info,
    ) as EndpointError;
    expect(format.hint).toContain("structuredOutput: json");
    const other = mapApiError(
      status(400, { message: "Unknown model parameter 'seed'" }),
      info,
    ) as EndpointError;
    expect(other.hint).not.toContain("structuredOutput");
    expect(isContextLengthError(status(400, { message: "response_format is invalid" }))).toBe(false);
  });
});

describe("the reply's token cap goes in the fields each server reads", () => {
  it("OpenAI (and Azure OpenAI): max_completion_tokens only; reasoning models refuse max_tokens", () => {
    expect(replyCapFields("https://api.openai.com/v1", 4096)).toEqual({ max_completion_tokens: 4096 });
    expect(replyCapFields("https://me.openai.azure.com/openai/v1", 4096)).toEqual({
      max_completion_tokens: 4096,
    });
  });

  it("Ollama, llama.cpp, vLLM and the rest: both fields, the same value", () => {
    for (const url of ["http://localhost:11434/v1", "http://localhost:8080/v1", "http://gpu:8000/v1"]) {
      expect(replyCapFields(url, 777)).toEqual({ max_completion_tokens: 777, max_tokens: 777 });
    }
  });

  it("null sends no cap", () => {
    expect(replyCapFields("http://localhost:11434/v1", null)).toEqual({});
  });
});
