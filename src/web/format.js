// Numbers as every view shows them: the terminal, the page and `azlon report` (plain ES
// module: the browser loads it; src/util/format.ts hands it to the rest of azlon).

/**
 * "1.5 GiB", "512 MiB", "64 KiB", "900 B".
 * @param {number} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${text} ${units[unit]}`;
}

/**
 * "850 ms", "12.3 s", "4 m 05 s".
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} m ${String(seconds).padStart(2, "0")} s`;
}

/**
 * "1,234".
 * @param {number} n
 * @returns {string}
 */
export function formatCount(n) {
  return n.toLocaleString("en-US");
}
