/**
 * How the openai SDK reaches a base URL. The SDK appends a request's path to the base URL as
 * text, so a query in it (Azure's `?api-key=...`, `?api-version=...`) would swallow the path
 * (`/v1?api-key=X%2Fchat%2Fcompletions`): the query goes apart, as the SDK's defaultQuery,
 * which it adds to every request after the path.
 */
export function clientEndpoint(baseUrl: string): { baseURL: string; defaultQuery?: Record<string, string> } {
  const url = new URL(baseUrl);
  if (url.search === "" && url.hash === "") return { baseURL: baseUrl };
  const query = Object.fromEntries(url.searchParams);
  url.search = "";
  url.hash = "";
  return {
    baseURL: url.href.replace(/\/+$/, ""),
    ...(Object.keys(query).length ? { defaultQuery: query } : {}),
  };
}

/** A path at the server's root beside the API (llama-server's /props beside /v1), the query kept. */
export function serverUrl(baseUrl: string, path: string): string {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "")}${path}`;
  url.hash = "";
  return url.href;
}
