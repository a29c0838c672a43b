import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { resolveConfig } from "../../config/load.js";
import { UsageError } from "../../core/errors.js";
import { formatAge } from "../../util/age.js";
import { formatBytes } from "../../util/format.js";
import { currentProcess, processAlive } from "../../util/liveness.js";
import { costText } from "../../web/phases.js";
import { RUN_FILE } from "../../workspace/run-folder.js";
import { listRunFolders, type RunEntry, runIsLive, shownStatus } from "../../workspace/run-list.js";
import type { CliContext } from "../io.js";

export interface RunsFlags {
  out?: string;
  config?: string;
  trustConfig?: boolean;
  json?: boolean;
}

/** The folder of run folders: --out, else the config's `out`, as `azlon run` finds it. */
export async function outDirFor(
  flags: { out?: string; config?: string; trustConfig?: boolean },
  ctx: CliContext,
): Promise<string> {
  const { config } = await resolveConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    flags: flags.out !== undefined ? { out: flags.out } : {},
    configPath: flags.config ?? null,
    trustConfig: !!flags.trustConfig,
  });
  return resolve(ctx.cwd, config.out);
}

/** The engine, if it answers soon; `azlon runs` works without one. */
async function engineIfAny(ctx: CliContext): Promise<Docker | null> {
  try {
    const { resolveDockerTarget } = await import("../../sandbox/connection.js");
    const { connectDocker } = await import("../../sandbox/docker-sandbox.js");
    const target = resolveDockerTarget({ env: ctx.env, home: ctx.env.HOME ?? "/" });
    return (await connectDocker(target, 2000)).docker;
  } catch {
    return null;
  }
}

/** Sizes of the images azlon made, by tag; null when the engine cannot be asked. */
async function imageSizes(ctx: CliContext): Promise<Map<string, number> | null> {
  const docker = await engineIfAny(ctx);
  if (!docker) return null;
  try {
    const { labelledImages } = await import("../../sandbox/orphans.js");
    const sizes = new Map<string, number>();
    for (const image of await labelledImages(docker))
      for (const tag of image.tags) sizes.set(tag.replace(/:latest$/, ""), image.bytes);
    return sizes;
  } catch {
    return null;
  }
}

interface RunRow extends Omit<RunEntry, "owner" | "locked"> {
  live: boolean;
  /** Whether the engine still has the run's image; null when it cannot be asked. */
  imagePresent: boolean | null;
  imageBytes: number | null;
}

/** The folder of the run `azlon runs <run>` names: its id under --out, else a folder of that name. */
function runFolderOf(run: string, outDir: string, ctx: CliContext): string {
  const under = join(outDir, run);
  if (!run.includes("/") && existsSync(join(under, RUN_FILE))) return under;
  const path = resolve(ctx.cwd, run);
  if (existsSync(path)) return path;
  throw new UsageError(
    `no run ${run} in ${outDir}`,
    "`azlon runs` lists them (pass --out for another folder)",
  );
}

/**
 * `azlon runs`: the run folders under --out, with status, stop reason, iterations, cost, image
 * and age; `azlon runs <run>` shows that one run, as `azlon show` does.
 */
export async function runsCommand(flags: RunsFlags, ctx: CliContext, run?: string): Promise<number> {
  const outDir = await outDirFor(flags, ctx);
  if (run !== undefined) {
    const { showCommand } = await import("./show.js");
    return showCommand(runFolderOf(run, outDir, ctx), { json: !!flags.json }, ctx);
  }
  const entries = listRunFolders(outDir);
  const sizes = entries.some((e) => e.image) ? await imageSizes(ctx) : null;
  const here = currentProcess().host;
  const rows: RunRow[] = entries.map(({ owner: _owner, locked: _locked, ...entry }, i) => {
    const bytes = entry.image ? sizes?.get(entry.image.replace(/:latest$/, "")) : undefined;
    return {
      ...entry,
      live: runIsLive(entries[i] as RunEntry, here, processAlive),
      imagePresent: sizes && entry.image ? bytes !== undefined : null,
      imageBytes: bytes ?? null,
    };
  });
  if (flags.json) {
    ctx.stdout.write(`${JSON.stringify({ outDir, runs: rows }, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    ctx.stdout.write(`no runs in ${outDir}\n`);
    return 0;
  }
  const now = Date.now();
  const table = [
    ["RUN", "STATUS", "STOP REASON", "ITER", "COST", "IMAGE", "UPDATED"],
    ...rows.map((r) => [
      r.runId,
      shownStatus(r, r.live),
      // A run going on (or killed while it did) has not stopped for a reason of its own.
      r.live || r.status === "running" ? "-" : (r.stopReason ?? "-"),
      String(r.iterations),
      costText(r.costUsd, { short: true }),
      imageCell(r),
      r.updatedAt ? `${formatAge(now - Date.parse(r.updatedAt))} ago` : "-",
    ]),
  ];
  const widths = table[0]?.map((_, col) => Math.max(...table.map((row) => row[col]?.length ?? 0))) ?? [];
  for (const row of table) {
    ctx.stdout.write(
      `${row
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
  }
  const kept = rows.filter((r) => r.imageBytes !== null);
  const total = kept.reduce((sum, r) => sum + (r.imageBytes ?? 0), 0);
  ctx.stdout.write(
    `\n${rows.length} run${rows.length === 1 ? "" : "s"} in ${outDir}` +
      (kept.length ? `; their images take ${formatBytes(total)} (\`azlon clean\` removes them)` : "") +
      "\n",
  );
  return 0;
}

function imageCell(r: RunRow): string {
  if (!r.image) return "-";
  if (r.imagePresent === false) return `${r.image} (removed)`;
  return r.imageBytes !== null ? `${r.image} (${formatBytes(r.imageBytes)})` : r.image;
}
