import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { embeddedAsset } from "../prompts/embedded.js";

/** The page's file names: flat, and only these kinds, so nothing else can be asked for. */
export const WEB_FILE = /^[\w.-]+\.(html|js|css|svg|png)$/;

/**
 * The folder of the web page's files (index.html, app.js, style.css, diff.js): src/web when run
 * from the sources, dist/web in the bundle and the installed package (the build copies it).
 * Found by walking up from this module, as the prompt templates are; null when there is none
 * (the single executable carries the files inside it instead).
 */
export function webDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [join(dir, "web"), join(dir, "dist", "web"), join(dir, "src", "web")]) {
      if (existsSync(join(candidate, "index.html")) && existsSync(join(candidate, "style.css")))
        return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** One of the page's files (from the executable's assets, else from disk), or null. */
export function webFile(name: string): Buffer | null {
  if (!WEB_FILE.test(name)) return null;
  const embedded = embeddedAsset(`web/${name}`);
  if (embedded) return embedded;
  const dir = webDir();
  if (!dir || !readdirSync(dir).includes(name)) return null;
  return readFileSync(join(dir, name));
}

/** One of the page's files, as text; a missing one is an installation problem. */
export function readWebAsset(name: string): string {
  const file = webFile(name);
  if (!file) throw new Error(`azlon's web page file ${name} is missing from its installation`);
  return file.toString("utf8");
}
