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
import { EndpointError } from "../core/errors.js";

export interface EndpointInfo {
  baseUrl: string;
  model: string;
  retries: number;
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
    return new EndpointError(
      `the endpoint at ${where} kept answering 429 (rate limit or quota) after ${info.retries} retries: ${apiMessage(error)}`,
      "wait and `azlon resume` the run, raise modelRetries, or check the account's quota",
    );
  }
  if (error instanceof BadRequestError) {
    return new EndpointError(
      `the endpoint at ${where} rejected the request (400: ${apiMessage(error)})`,
      "if it does not support json_schema structured outputs, set structuredOutput: json in the config",
    );
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new EndpointError(
      `no answer from the endpoint at ${where} in time (after ${info.retries} retries)`,
      "raise modelTimeout, or check the server is up",
    );
  }
  if (error instanceof APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return new EndpointError(
      `cannot reach the endpoint at ${where}${cause}`,
      "check --base-url (or OPENAI_BASE_URL) and that the server is running",
    );
  }
  if (error instanceof APIError && typeof error.status === "number") {
    return new EndpointError(
      `the endpoint at ${where} kept failing (${error.status}: ${apiMessage(error)}) after ${info.retries} retries`,
      "try again later and `azlon resume` the run",
    );
  }
  return error;
}
