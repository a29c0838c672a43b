/** Hosts that are OpenAI's own API, which refuses the old field on its reasoning models. */
const OPENAI_HOSTS = [/^api\.openai\.com$/i, /\.openai\.azure\.com$/i];

/**
 * The request fields that cap a reply's length at `tokens`, in the names the endpoint reads.
 * The servers disagree (checked in their code, 2026):
 * - OpenAI: `max_completion_tokens`; `max_tokens` is deprecated and rejected by the o-series and
 *   gpt-5 models ("Unsupported parameter: 'max_tokens' ... Use 'max_completion_tokens'").
 * - Ollama (openai/openai.go): reads only `max_tokens` (into num_predict); unknown fields ignored.
 * - llama.cpp server: reads `n_predict`, else `max_tokens` (server-task.cpp
 *   params_from_json_cmpl); `max_completion_tokens` only since PR #19831 (Feb 2026), so older
 *   builds drop it silently (issue #13700). Other fields are passed through, not refused.
 * - vLLM (ChatCompletionRequest): both, `max_completion_tokens` first; extra fields allowed.
 * So OpenAI's hosts get the new field alone and every other endpoint gets both, same value.
 */
export function replyCapFields(
  baseUrl: string,
  tokens: number | null,
): { max_completion_tokens?: number; max_tokens?: number } {
  if (tokens === null) return {};
  let host = "";
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    // Not a URL: the client would have refused it; treat it as a compatible server.
  }
  if (OPENAI_HOSTS.some((pattern) => pattern.test(host))) return { max_completion_tokens: tokens };
  return { max_completion_tokens: tokens, max_tokens: tokens };
}
