// One way to write numbers for the terminal, the page and the report: the page loads the same module.
export { formatBytes, formatCount, formatDuration } from "../web/format.js";

/** Parses a Docker-style size: 1073741824, "512m", "1g", "1.5GiB", "64k". Null when invalid. */
export function parseSize(text: string | number): number | null {
  if (typeof text === "number") return Number.isFinite(text) && text > 0 ? Math.floor(text) : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) return null;
  const factor =
    { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m[2] ?? "").toLowerCase()] ?? 1;
  const bytes = Math.floor(Number(m[1]) * factor);
  return bytes > 0 ? bytes : null;
}
