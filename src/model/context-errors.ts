import { APIError } from "openai";
import { EndpointError } from "../core/errors.js";
import { formatCount } from "../util/format.js";

/**
 * How the servers say a request does not fit the model's context:
 * llama.cpp: 400 type "exceed_context_size_error", "request (2192 tokens) exceeds the available
 *   context size (2048 tokens)"; vLLM: 400 "This model's maximum context length is 4096 tokens.
 *   However, you requested ..."; OpenAI: 400 code "context_length_exceeded".
 * (Ollama does not say: it silently drops the start of a prompt longer than num_ctx.)
 */
const CONTEXT_WORDS =
  /exceed_context_size_error|context_length_exceeded|exceeds? the available context size|maximum context length|context window|context length/i;

/** True when the endpoint refused the request because it is longer than the model's context. */
export function isContextLengthError(error: unknown): boolean {
  if (!(error instanceof APIError) || ![400, 413, 422].includes(error.status ?? 0)) return false;
  const body = error.error as { type?: unknown; code?: unknown } | undefined;
  return CONTEXT_WORDS.test(`${error.message} ${String(body?.type ?? "")} ${String(body?.code ?? "")}`);
}

export interface PromptSize {
  /** Characters of every message sent. */
  chars: number;
  /** The reply's token cap (maxReplyTokens), which the context must also hold; null: none sent. */
  replyTokens: number | null;
}

/** About four characters a token for English and code; enough to size a context. */
const CHARS_PER_TOKEN = 4;

/**
 * The prompt's tokens as the server counted them, when it says: llama.cpp's n_prompt_tokens or
 * "request (2192 tokens)", vLLM's "(3000 in the messages", OpenAI's "messages resulted in N tokens".
 */
export function serverPromptTokens(error: APIError): number | null {
  const body = error.error as { n_prompt_tokens?: unknown } | undefined;
  if (typeof body?.n_prompt_tokens === "number") return body.n_prompt_tokens;
  const said = /request \((\d+) tokens\)|\((\d+) in the messages|resulted in (\d+) tokens/i.exec(
    error.message,
  );
  const count = said?.slice(1).find((group) => group !== undefined);
  return count === undefined ? null : Number(count);
}

/** The context size to suggest: room for the prompt and the reply, rounded up to a power of two. */
export function suggestedContext(promptTokens: number, replyTokens: number | null): number {
  const needed = promptTokens + (replyTokens ?? 4096);
  return 2 ** Math.ceil(Math.log2(Math.max(needed, 8192)));
}

/** The error for a prompt the model's context cannot hold: what happened, how big, and the fix. */
export function contextError(
  where: string,
  error: APIError,
  serverSays: string,
  size: PromptSize,
): EndpointError {
  const counted = serverPromptTokens(error);
  const tokens = counted ?? Math.ceil(size.chars / CHARS_PER_TOKEN);
  const ctx = suggestedContext(tokens, size.replyTokens);
  const reply =
    size.replyTokens === null ? "the reply" : `a reply of up to ${formatCount(size.replyTokens)} tokens`;
  const howMany =
    counted === null
      ? `about ${formatCount(tokens)} tokens`
      : `${formatCount(tokens)} tokens by the server's count`;
  return new EndpointError(
    `the prompt does not fit the model's context at ${where} (${serverSays}); the prompt is ${formatCount(size.chars)} characters, ${howMany}`,
    `give the model a context that holds the prompt and ${reply}: llama-server -c ${ctx}; Ollama num_ctx (OLLAMA_CONTEXT_LENGTH=${ctx}, or PARAMETER num_ctx ${ctx} in a Modelfile); vLLM --max-model-len ${ctx}; or lower maxReplyTokens`,
  );
}
