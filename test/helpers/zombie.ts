import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { onTestFinished } from "vitest";

/** The state letter of a process in /proc ("S", "R", "Z"...), or null when there is none. */
export function procState(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ")[0] ?? null;
  } catch {
    return null;
  }
}

export async function waitForState(pid: number, state: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (procState(pid) !== state) {
    if (Date.now() > until) throw new Error(`process ${pid} is ${procState(pid)}, not ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Runs `command` (a shell command line) as the child of a process that never waits on its
 * children: a shell that starts it in the background, prints its number, and then becomes
 * `sleep` (exec), which reaps nothing. Killed, the child stays a zombie until the parent
 * goes (at the end of the test). Returns the parent, its output, and the child's number.
 */
export async function underNonReapingParent(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ parent: ChildProcess; pid: number; output: () => string }> {
  const parent = spawn("sh", ["-c", `${command} & echo "child-pid $!"; exec sleep 600`], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  onTestFinished(() => {
    parent.kill("SIGKILL");
  });
  let output = "";
  parent.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  parent.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const until = Date.now() + 10_000;
  for (;;) {
    const match = /child-pid (\d+)/.exec(output);
    if (match) return { parent, pid: Number(match[1]), output: () => output };
    if (Date.now() > until) throw new Error(`no child started: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A zombie: a process that has exited and that its parent has not reaped. */
export async function zombie(): Promise<number> {
  // The child outlives the shell's `exec` by a moment, so the shell cannot reap it first.
  const { pid } = await underNonReapingParent("sleep 0.2");
  await waitForState(pid, "Z");
  return pid;
}

/** A live process (a `sleep`) that ends with the test. */
export function liveProcess(): number {
  const child = spawn("sleep", ["600"], { stdio: "ignore" });
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  if (!child.pid) throw new Error("could not start a process");
  return child.pid;
}
