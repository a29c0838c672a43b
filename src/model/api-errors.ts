import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from "openai";
import { EndpointError, ModelReplyError } from "../core/errors.js";
import { formatBytes } from "../util/format.js";
import { contextError, isContextLengthError, type PromptSize } from "./context-errors.js";
import { isUnparsedReply } from "./retry.js";
import { describeNetworkError, ReplyBrokenError, ReplyTooLargeError } from "./transport.js";

export interface EndpointInfo {
  baseUrl: string;
  model: string;
  retries: number;
  /** modelTimeout, for the message when it ran out. */
  timeoutMs?: number;
  /** maxRetryWait, and the longest wait the endpoint asked for, for a 429's message. */
  maxRetryWaitMs?: number;
  askedWaitMs?: number | null;
  /** The request's size, for a context that is too small. */
  prompt?: PromptSize;
}

/** A 400 about the response format (json_schema) rather than anything else in the request. */
export function isResponseFormatError(message: string): boolean {
  return /response_format|json_schema|schema|structured/i.test(message);
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

const retries = (n: number) => `${n} ${n === 1 ? "retry" : "retries"}`;

/** What to change when a 400 names a request option. */
function badRequestHint(message: string): string {
  if (isResponseFormatError(message)) {
    return "if it does not support json_schema structured outputs, set structuredOutput: json in the config";
  }
  if (/max_(completion_)?tokens/i.test(message)) {
    return "set maxReplyTokens lower, or to null to send no cap (the server's own limit applies)";
  }
  if (/temperature/i.test(message)) return "set temperature: null in the config (the model's default)";
  return "check --model and the option the endpoint names";
}

/** The API's own message, without the status prefix the SDK adds. */
function apiMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  const text = typeof body?.message === "string" ? body.message : error.message;
  // One line: an HTML error page from a proxy would otherwise fill the screen.
  return text
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .replace(/^\d{3}\s+/, "")
    .trim()
    .slice(0, 300);
}

/** True when the SDK gave up because our own AbortSignal fired. */
export function isUserAbort(error: unknown): boolean {
  return error instanceof APIUserAbortError;
}

export function isBadRequest(error: unknown): error is BadRequestError {
  return error instanceof BadRequestError;
}

/** Turns an SDK error into a FatalError with the cause and the fix; other errors pass through. */
export function mapApiError(error: unknown, info: EndpointInfo): unknown {
  const where = info.baseUrl;
  if (error instanceof AuthenticationError) {
    return new EndpointError(
      `the endpoint at ${where} rejected the API key (401: ${apiMessage(error)})`,
      "check OPENAI_API_KEY (or OPENAI_KEY) is the key for this endpoint",
    );
  }
  if (error instanceof PermissionDeniedError) {
    return new EndpointError(
      `the endpoint at ${where} refused access (403: ${apiMessage(error)})`,
      `check that the key may use model "${info.model}"`,
    );
  }
  if (error instanceof NotFoundError) {
    return new EndpointError(
      `model "${info.model}" was not found at ${where} (404: ${apiMessage(error)})`,
      "check --model and --base-url; `azlon doctor` shows what the endpoint offers",
    );
  }
  if (error instanceof RateLimitError) {
    const asked = info.askedWaitMs ?? null;
    const cap = info.maxRetryWaitMs ?? null;
    const longer =
      asked !== null && cap !== null && asked > cap
        ? `; it asked to wait ${seconds(asked)}, longer than maxRetryWait (${seconds(cap)})`
        : "";
    return new EndpointError(
      `the endpoint at ${where} kept answering 429 (rate limit or quota) after ${retries(info.retries)}: ${apiMessage(error)}${longer}`,
      "wait and `azlon resume` the run, raise maxRetryWait or modelRetries, or check the account's quota",
    );
  }
  if (error instanceof APIError && isContextLengthError(error) && info.prompt) {
    return contextError(where, error, apiMessage(error), info.prompt);
  }
  if (error instanceof BadRequestError) {
    const message = apiMessage(error);
    return new EndpointError(
      `the endpoint at ${where} rejected the request (400: ${message})`,
      badRequestHint(message),
    );
  }
  if (error instanceof APIConnectionTimeoutError) {
    const within =
      info.timeoutMs === undefined ? "in time" : `within modelTimeout (${seconds(info.timeoutMs)})`;
    return new EndpointError(
      `no answer from the endpoint at ${where} ${within}, after ${retries(info.retries)}`,
      "raise modelTimeout (a slow local model may need more), or check that the server is up and not stuck",
    );
  }
  if (error instanceof APIConnectionError) return connectionError(error, info);
  if (isUnparsedReply(error)) {
    return new EndpointError(
      `the endpoint at ${where} could not read the model's reply as the structured output it asked for (${(error as APIError).status}: ${apiMessage(error as APIError)})`,
      "set structuredOutput: json in the config (or --structured-output json), so azlon checks the replies itself; or try another model or chat template",
    );
  }
  if (error instanceof APIError && typeof error.status === "number") {
    return new EndpointError(
      `the endpoint at ${where} kept failing (${error.status}: ${apiMessage(error)}) after ${retries(info.retries)}`,
      "try again later and `azlon resume` the run",
    );
  }
  return error;
}

/** No whole answer came: refused, unresolvable, TLS, reset, or a reply that broke off or was too big. */
function connectionError(error: APIConnectionError, info: EndpointInfo): Error {
  const where = info.baseUrl;
  const cause = error.cause;
  if (cause instanceof ReplyTooLargeError) {
    return new ModelReplyError(
      `the endpoint's reply was larger than maxReplyBytes (${formatBytes(cause.limit)}); it was refused, not kept`,
      "the model may be looping: lower maxReplyTokens (the reply's token cap), or raise maxReplyBytes",
    );
  }
  if (cause instanceof ReplyBrokenError) {
    return new EndpointError(
      `the endpoint at ${where} answered, but its reply ${cause.message.replace(/^the reply /, "")}, after ${retries(info.retries)}`,
      "the server may have crashed or run out of memory (see its log), or a proxy cut the connection; `azlon resume` the run once it is back",
    );
  }
  const { fault, text } = describeNetworkError(cause ?? error);
  const hint = {
    refused: "check --base-url (or OPENAI_BASE_URL), and that the server is running and listens on that port",
    dns: "check the host name in --base-url (or OPENAI_BASE_URL), and this machine's network and DNS",
    tls: "check http:// against https:// in --base-url; for a private certificate authority set NODE_EXTRA_CA_CERTS",
    reset: "check that the server is running and that nothing between (a proxy, a VPN) drops the connection",
    closed: "check that the server is running and that nothing between (a proxy, a VPN) drops the connection",
    unreachable: "check --base-url (or OPENAI_BASE_URL) and this machine's network",
    other: "check --base-url (or OPENAI_BASE_URL) and that the server is running",
  }[fault];
  return new EndpointError(`cannot reach the endpoint at ${where}: ${text}`, hint);
}
