import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder of the web page's files (index.html, app.js, style.css, diff.js): src/web when run
 * from the sources, dist/web in the bundle and the installed package (the build copies it).
 * Found by walking up from this module, as the prompt templates are.
 */
export function webDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [join(dir, "web"), join(dir, "dist", "web")]) {
      if (existsSync(join(candidate, "style.css"))) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("azlon's web page files are missing from its installation");
    dir = parent;
  }
}

/** One of the page's files, as text. */
export function readWebAsset(name: string): string {
  return readFileSync(join(webDir(), name), "utf8");
}
