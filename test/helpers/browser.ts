import { existsSync } from "node:fs";
import { type Browser, launch } from "puppeteer-core";
import { describe, it } from "vitest";

/** Debian's chromium (apt package `chromium`), or the one CHROMIUM_PATH names. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const inCI = !!process.env.CI && process.env.CI !== "false";

/**
 * A describe block that needs a real browser. In CI a missing chromium fails the tier
 * (.ci/setup-browser.sh installs it); on a developer's machine without one it is skipped, loudly.
 */
export function describeBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) describe(name, body);
  else if (inCI)
    describe(name, () => {
      it("needs chromium", () => {
        throw new Error(`no browser at ${CHROMIUM}; run: bash .ci/setup-browser.sh`);
      });
    });
  else {
    console.warn(`\n*** SKIPPED "${name}": no browser at ${CHROMIUM} (apt-get install chromium)\n`);
    describe.skip(name, body);
  }
}

/** Headless chromium; as root it needs --no-sandbox. */
export function startBrowser(): Promise<Browser> {
  return launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}
