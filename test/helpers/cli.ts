import { type ChildProcess, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ENGINE_ENV } from "./engine.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = join(ROOT, "bin/azlon.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Written to the CLI's standard input, which is then closed (else stdin is /dev/null). */
  input?: string;
  /** Called with the stderr seen so far, after each chunk. */
  onStderr?: (text: string, child: ChildProcess) => void;
}

/** Where the spawned CLI looks for the user's config: nowhere, unless a test says so. */
const NO_USER_CONFIG = join(tmpdir(), "azlon-test-no-user-config");

/**
 * A clean environment: no real keys or endpoints leak in from the developer's shell, and the
 * developer's own ~/.config/azlon is not read.
 */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    XDG_CONFIG_HOME: NO_USER_CONFIG,
    NO_COLOR: "1",
  };
  // The engine the tests probe is the one the CLI finds (test/helpers/engine.ts).
  for (const name of ENGINE_ENV) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Spawns the built CLI (bin/azlon.js → dist/) as a user would run it. */
export function spawnCli(
  args: string[],
  options: SpawnOptions,
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: baseEnv(options.env),
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    options.onStderr?.(stderr, child);
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(args: string[], options: SpawnOptions): Promise<CliResult> {
  return spawnCli(args, options).done;
}
