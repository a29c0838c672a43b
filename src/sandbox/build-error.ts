import { cutEcho, oneLine } from "../util/echo.js";

/** A builder's error line: `ERROR: why`, or BuildKit's `#7 ERROR: why` for a failed step. */
const ERROR_LINE = /^(?:#\d+ )?ERROR:(.*)$/;
/** Wrappers around the cause that say only that the build failed (BuildKit's, mostly). */
const WRAPPERS =
  /^(?:(?:failed to solve(?: with frontend [\w.]+)?|failed to create LLB definition|rpc error: code = \w+ desc =):? *)+/i;

/**
 * Why a failed build failed, in the builder's words, from its log: the last error line, its
 * wrappers ("failed to solve: ") taken off, on one line and bounded. The last, not the first:
 * a RUN step's own output may say "ERROR: ..." before the builder's verdict, which ends the log
 * (the classic builder's error event; BuildKit's `ERROR: failed to solve: ...`). Null when the
 * log names none (a build stopped by its time limit, say).
 */
export function buildFailureCause(log: string): string | null {
  const lines = log.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const said = ERROR_LINE.exec(lines[i] as string)?.[1]?.trim();
    if (!said) continue;
    return cutEcho(oneLine(said.replace(WRAPPERS, "") || said));
  }
  return null;
}
