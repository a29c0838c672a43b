import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { RunState } from "../../src/core/state.js";

/** Every file under a folder, with its text. */
export function allFiles(dir: string): Array<{ path: string; text: string }> {
  if (statSync(dir).isFile()) return [{ path: dir, text: readFileSync(dir, "utf8") }];
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

/** The journal's events, loosely typed: tests read fields of whichever event they look for. */
// biome-ignore lint/suspicious/noExplicitAny: a test reads arbitrary fields of journal lines
export type JournalLine = { type: string; at: string; [key: string]: any };

export function readJournal(runDir: string): JournalLine[] {
  return readFileSync(join(runDir, "events.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

export function readRun(runDir: string): RunState {
  return JSON.parse(readFileSync(join(runDir, "run.json"), "utf8"));
}

/** The one run folder under an output folder. */
export function onlyRunDir(out: string): string {
  const runs = readdirSync(out);
  expect(runs).toHaveLength(1);
  return join(out, runs[0] as string);
}
