import type * as Sea from "node:sea";

// True only in the single executable's bundle (scripts/build-binary.mjs defines it); the ESM
// build and the sources leave it undefined, so this module never touches node:sea there.
declare const __AZLON_SEA__: boolean | undefined;

/**
 * A default template embedded in the single executable, or null when running from files.
 * The binary has no prompts/ folder beside it: its templates are SEA assets.
 */
export function embeddedTemplate(file: string): string | null {
  if (typeof __AZLON_SEA__ === "undefined" || !__AZLON_SEA__) return null;
  // The SEA's require loads built-in modules only, which is all this needs.
  const sea = require("node:sea") as typeof Sea;
  return sea.isSea() ? sea.getAsset(file, "utf8") : null;
}

/** Any file embedded in the single executable (the web page's, under web/), or null. */
export function embeddedAsset(name: string): Buffer | null {
  if (typeof __AZLON_SEA__ === "undefined" || !__AZLON_SEA__) return null;
  const sea = require("node:sea") as typeof Sea;
  if (!sea.isSea()) return null;
  try {
    return Buffer.from(sea.getAsset(name));
  } catch {
    return null;
  }
}
