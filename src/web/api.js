// The page's calls to `azlon serve`: the token from #token= is kept in sessionStorage and sent as a header.
import { setText } from "./dom.js";

const TOKEN_KEY = "azlon.token";

export function takeTokenFromUrl() {
  const match = /^#token=([^&]*)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1] ?? ""));
  // Out of the address bar (and the history) at once.
  history.replaceState(null, "", `${location.pathname}${location.search}#/`);
}

export const token = () => sessionStorage.getItem(TOKEN_KEY);

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

export async function api(path, { method = "GET", body, text = false } = {}) {
  const headers = {};
  if (token()) headers.authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "the azlon server does not answer: is `azlon serve` still running?");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    let field;
    try {
      const data = await response.json();
      if (data?.error?.message) message = data.error.message;
      field = data?.error?.field;
    } catch {
      // Not JSON: the status line says enough.
    }
    if (response.status === 401)
      message = `${message} — open the address \`azlon serve\` printed, with its #token=…`;
    throw new ApiError(response.status, message, field);
  }
  return text ? response.text() : response.json();
}

export function showError(id, error) {
  setText(id, error ? (error instanceof Error ? error.message : String(error)) : "");
}
