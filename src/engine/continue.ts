import type { RunState } from "../core/state.js";
import { limitsReached } from "./limits.js";

export { limitsReached, type ReachedLimit } from "./limits.js";

/** A path as a shell takes it: quoted only when it has to be. */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The command that continues the run, raising whatever limit stopped it: the terminal and the report print it. */
export function continueCommand(state: RunState, dir: string): string {
  const raise = limitsReached(state)
    .filter((l) => l.raised !== null)
    .map((l) => ` ${l.flag} ${l.raised}`)
    .join("");
  return `azlon resume ${shellQuote(dir)}${raise}`;
}
