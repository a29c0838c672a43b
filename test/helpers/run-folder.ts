import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";

/** Every file under a folder, with its text. */
export function allFiles(dir: string): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...allFiles(full));
    else out.push({ path: full, text: readFileSync(full, "utf8") });
  }
  return out;
}

/** Fails when any file under dir holds the secret. */
export function expectNoSecret(dir: string, secret: string): void {
  const leaks = allFiles(dir)
    .filter((f) => f.text.includes(secret))
    .map((f) => f.path);
  expect(leaks, `the secret leaked into ${leaks.join(", ")}`).toEqual([]);
}

export function readJournal(runDir: string): Array<Record<string, unknown> & { type: string }> {
  return readFileSync(join(runDir, "events.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

export function readRun(runDir: string): Record<string, unknown> & { status: string; runId: string } {
  return JSON.parse(readFileSync(join(runDir, "run.json"), "utf8"));
}

/** The one run folder under an output folder. */
export function onlyRunDir(out: string): string {
  const runs = readdirSync(out);
  expect(runs).toHaveLength(1);
  return join(out, runs[0] as string);
}
