import { existsSync } from "node:fs";
import { type Browser, launch } from "puppeteer-core";
import { describe, it } from "vitest";

export type BrowserName = "chromium" | "firefox";

/** Debian's browsers (apt packages `chromium` and `firefox-esr`), or the ones the environment names. */
export const BROWSER_PATHS: Record<BrowserName, string> = {
  chromium: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  firefox: process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr",
};
const inCI = !!process.env.CI && process.env.CI !== "false";

/**
 * A describe block that needs a real browser. In CI a missing browser fails the tier
 * (.ci/setup-browser.sh installs both); on a developer's machine without one it is skipped, loudly.
 */
export function describeBrowser(name: string, body: () => void, browser: BrowserName = "chromium"): void {
  const path = BROWSER_PATHS[browser];
  if (existsSync(path)) describe(name, body);
  else if (inCI)
    describe(name, () => {
      it(`needs ${browser}`, () => {
        throw new Error(`no ${browser} at ${path}; run: bash .ci/setup-browser.sh`);
      });
    });
  else {
    console.warn(
      `\n*** SKIPPED "${name}": no ${browser} at ${path} (bash .ci/setup-browser.sh installs it)\n`,
    );
    describe.skip(name, body);
  }
}

/**
 * The browser, headless; chromium as root needs --no-sandbox. Firefox is driven over WebDriver
 * BiDi. `args` go to chromium (--host-resolver-rules gives a test its own DNS).
 */
export function startBrowser(browser: BrowserName = "chromium", args: string[] = []): Promise<Browser> {
  if (browser === "firefox")
    return launch({ browser: "firefox", executablePath: BROWSER_PATHS.firefox, headless: true });
  return launch({
    executablePath: BROWSER_PATHS.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", ...args],
  });
}
