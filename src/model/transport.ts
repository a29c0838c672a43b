/** What one HTTP attempt came to, for the journal. */
export interface Exchange {
  /** The HTTP status, or null when no answer came (unreachable, timed out, aborted). */
  status: number | null;
  /** What went wrong, in words, or null when the whole answer arrived. */
  error: string | null;
  durationMs: number;
}

/** A reply larger than maxReplyBytes: refused, never retried (it would be as large again). */
export class ReplyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the reply is larger than ${limit} bytes`);
    this.name = "ReplyTooLargeError";
  }
}

/** The answer began (status and headers came) but its body broke off before the end. */
export class ReplyBrokenError extends Error {
  constructor(detail: string) {
    // No "timed out" in the words: the SDK would take the error for a timeout.
    super(`the reply broke off mid-way (${detail})`);
    this.name = "ReplyBrokenError";
  }
}

export type NetworkFault = "refused" | "dns" | "tls" | "reset" | "closed" | "unreachable" | "other";

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$|ERR_OSSL)/;

/** The innermost error of a cause chain that carries a system code (undici nests them). */
function rootCause(error: unknown): { code: string | null; message: string } {
  let current: unknown = error;
  let found: { code: string | null; message: string } = {
    code: null,
    message: error instanceof Error ? error.message : String(error),
  };
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === "string") found = { code, message: current.message };
    else if (found.code === null) found = { code: null, message: current.message };
    current = current.cause;
  }
  return found;
}

/**
 * Why a request got no answer, in a user's words: undici says only "fetch failed" and hides
 * the reason (connection refused, DNS, TLS) a cause or two down.
 */
export function describeNetworkError(error: unknown): { fault: NetworkFault; text: string } {
  if (error instanceof ReplyBrokenError) return { fault: "closed", text: error.message };
  const { code, message } = rootCause(error);
  switch (code) {
    case "ECONNREFUSED":
      return {
        fault: "refused",
        text: `connection refused (${message.replace(/^connect ECONNREFUSED /, "")})`,
      };
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
    case "EAI_NONAME":
      return { fault: "dns", text: `the host name does not resolve (DNS: ${message})` };
    case "ECONNRESET":
      return { fault: "reset", text: "the connection was reset" };
    case "UND_ERR_SOCKET":
      return { fault: "closed", text: `the server closed the connection (${message})` };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EADDRNOTAVAIL":
      return { fault: "unreachable", text: `no route to the host (${message})` };
  }
  if (code && TLS_CODE.test(code)) {
    if (code === "ERR_SSL_WRONG_VERSION_NUMBER") {
      return { fault: "tls", text: "TLS failed: the server does not speak TLS (is it http://?)" };
    }
    return { fault: "tls", text: `TLS failed: ${opensslReason(message)}` };
  }
  return { fault: "other", text: message };
}

/** "wrong version number" out of OpenSSL's "8070...:error:0A00010B:SSL routines:fn:wrong version number:file:350:". */
function opensslReason(message: string): string {
  const parts = message.split(":");
  const at = parts.indexOf("SSL routines");
  return (at >= 0 ? parts[at + 2] : undefined) || message;
}

/** Reads a body whole, refusing it past maxBytes and failing at once when the signal fires. */
async function readBody(
  response: Response,
  maxBytes: number,
  signal: AbortSignal | null,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new ReplyTooLargeError(maxBytes);
  }
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  // undici ends a read on abort, but only once a chunk or the socket moves: race the signal.
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal?.reason ?? new DOMException("aborted", "AbortError"));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) throw new ReplyTooLargeError(maxBytes);
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    if (signal?.aborted || error instanceof ReplyTooLargeError) throw error;
    const { fault, text } = describeNetworkError(error);
    throw new ReplyBrokenError(fault === "closed" ? "the server closed the connection" : text);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

export interface BoundedFetchOptions {
  maxReplyBytes: () => number;
  /** Told the outcome of every attempt (the model journals it). */
  record: (exchange: Exchange) => void;
}

/**
 * A fetch for the openai SDK that reads the whole reply before handing it over. The SDK's
 * timeout ends when the headers arrive and its body read has no deadline, so a server that
 * stalls mid-body would hang the run; read here, the body is under the same timeout (the SDK
 * keeps its timer until fetch returns) and under maxReplyBytes. A body that breaks off, or
 * that claims to be JSON and is cut short, becomes a network error, which is retried.
 */
export function boundedFetch(options: BoundedFetchOptions, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const started = performance.now();
    const signal = init?.signal ?? null;
    const done = (status: number | null, error: string | null) =>
      options.record({ status, error, durationMs: Math.round(performance.now() - started) });
    let response: Response;
    try {
      response = await base(input, init);
    } catch (error) {
      done(null, signal?.aborted ? "aborted" : describeNetworkError(error).text);
      throw error;
    }
    try {
      const body = await readBody(response, options.maxReplyBytes(), signal);
      const type = response.headers.get("content-type") ?? "";
      if (response.ok && /json/i.test(type) && body.byteLength > 0) {
        try {
          JSON.parse(new TextDecoder().decode(body));
        } catch {
          // Framed correctly but cut short: a proxy that closed early without chunking.
          throw new ReplyBrokenError(`${body.byteLength} bytes of JSON that stop before the end`);
        }
      }
      done(response.status, null);
      return new Response(response.status === 204 || response.status === 304 ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      done(response.status, signal?.aborted ? "aborted" : errorText(error));
      throw error;
    }
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
