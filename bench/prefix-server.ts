/**
 * A manual check, not part of `npm run bench`: sends the prefix benchmark's five judge requests
 * per scenario (bench/prefix.ts) to a real OpenAI-compatible server and prints, for each, the
 * prompt tokens the server says it served from its cache and how long it took. For llama.cpp's
 * llama-server (STACK.md), give it a context of at least 64K tokens.
 *
 *   npx tsx bench/prefix-server.ts http://127.0.0.1:8080/v1
 */
import { prefixRequests, SMALL_FILES } from "./prefix.js";

const base = (process.argv[2] ?? "http://127.0.0.1:8080/v1").replace(/\/$/, "");

interface Usage {
  prompt_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
}

const scenarios: Array<[string, (round: number) => string]> = [
  ["same file each round", () => "main.py"],
  ["a different file each round", (round) => SMALL_FILES[round % SMALL_FILES.length] as string],
];
for (const [name, changing] of scenarios) {
  console.log(`${name}: cached / prompt tokens, time`);
  for (const [i, body] of prefixRequests(changing).bodies.entries()) {
    // Only the prompt matters here: ask for the shortest reply.
    const request = { ...JSON.parse(body), max_tokens: 4, max_completion_tokens: 4 };
    const started = Date.now();
    const response = await fetch(`${base}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
    const text = await response.text();
    if (!response.ok) {
      console.log(`  round ${i + 1}: HTTP ${response.status}: ${text.slice(0, 300)}`);
      break;
    }
    const usage = (JSON.parse(text) as { usage: Usage }).usage;
    const cached = usage.prompt_tokens_details?.cached_tokens;
    const share =
      cached === undefined ? "not reported" : `${((100 * cached) / usage.prompt_tokens).toFixed(0)}%`;
    console.log(
      `  round ${i + 1}: ${cached ?? "?"} / ${usage.prompt_tokens} (${share}), ${Date.now() - started} ms`,
    );
  }
}
