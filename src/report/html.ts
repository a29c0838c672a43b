/** Text made safe for HTML content and quoted attributes: the model's words are never markup. */
export function esc(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** `<tag class="...">escaped text</tag>`. */
export function el(tag: string, text: unknown, className?: string): string {
  return `<${tag}${className ? ` class="${esc(className)}"` : ""}>${esc(text)}</${tag}>`;
}

/** A definition list of label and value pairs; values are escaped, rows with undefined are left out. */
export function kv(rows: Array<[string, unknown]>): string {
  const items = rows
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `<dt>${esc(key)}</dt><dd>${esc(value)}</dd>`)
    .join("");
  return `<dl class="kv">${items}</dl>`;
}
