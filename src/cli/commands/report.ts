import { resolve } from "node:path";
import { UsageError } from "../../core/errors.js";
import { REPORT_FILE, renderReport } from "../../report/report.js";
import { fileErrorCause } from "../../util/file-errors.js";
import { writeFileAtomic } from "../../workspace/run-folder.js";
import type { CliContext } from "../io.js";

export interface ReportFlags {
  output?: string;
}

/** `azlon report <run-dir>`: the run as one self-contained HTML file; prints where it went. */
export async function reportCommand(dir: string, flags: ReportFlags, ctx: CliContext): Promise<number> {
  const runDir = resolve(ctx.cwd, dir);
  const html = renderReport(runDir);
  const path = flags.output ? resolve(ctx.cwd, flags.output) : resolve(runDir, REPORT_FILE);
  try {
    writeFileAtomic(path, html);
  } catch (error) {
    throw new UsageError(
      `cannot write the report to ${path}: ${fileErrorCause(error)}`,
      "pass --output with a writable path",
    );
  }
  ctx.stdout.write(`${path}\n`);
  return 0;
}
