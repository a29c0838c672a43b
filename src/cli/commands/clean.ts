import { UsageError } from "../../core/errors.js";
import { resolveDockerTarget } from "../../sandbox/connection.js";
import { currentOwner, OWNER_PID_LABEL } from "../../sandbox/owner.js";
import { formatAge, parseAge } from "../../util/age.js";
import { formatBytes } from "../../util/format.js";
import { processAlive } from "../../util/liveness.js";
import { shownAsText } from "../../util/terminal.js";
import { listRunFolders, shownStatus } from "../../workspace/run-list.js";
import { type CleanPlan, planClean } from "../clean-plan.js";
import type { CliContext } from "../io.js";
import { outDirFor } from "./runs.js";

export interface CleanFlags {
  out?: string;
  config?: string;
  trustConfig?: boolean;
  olderThan?: string;
  all?: boolean;
  yes?: boolean;
}

/**
 * `azlon clean`: removes the containers and images of finished runs (only ever things with
 * the azlon.run label, never those of a run going on). Lists them and removes nothing unless
 * --yes is given.
 */
export async function cleanCommand(flags: CleanFlags, ctx: CliContext): Promise<number> {
  const olderThanMs = flags.olderThan === undefined ? null : parseAge(flags.olderThan);
  if (olderThanMs === null && flags.olderThan !== undefined) {
    throw new UsageError(
      `--older-than "${flags.olderThan}" is not an age`,
      "write it as 7d, 12h, 30m or 90s",
    );
  }
  const outDir = await outDirFor(flags, ctx);
  const { connectDocker } = await import("../../sandbox/docker-sandbox.js");
  const { labelledContainers, labelledImages, removeContainer, removeImage } = await import(
    "../../sandbox/orphans.js"
  );
  const { docker } = await connectDocker(resolveDockerTarget({ env: ctx.env, home: ctx.env.HOME ?? "/" }));
  const now = Date.now();
  const plan = planClean({
    folders: listRunFolders(outDir),
    containers: await labelledContainers(docker),
    images: await labelledImages(docker),
    scope: flags.all ? "all" : "folders",
    olderThanMs,
    now,
    here: currentOwner().host,
    alive: processAlive,
  });
  describePlan(ctx, plan, now, !!flags.yes);
  const containers = [...plan.runs.flatMap((r) => r.containers), ...plan.orphans];
  const images = plan.runs.flatMap((r) => r.images);
  const bytes = images.reduce((sum, i) => sum + i.bytes, 0);
  const what = `${count(images.length, "image")} (${formatBytes(bytes)}) and ${count(containers.length, "container")}`;
  if (!flags.yes) {
    const scope = flags.all ? "on the Docker engine" : `of the runs in ${outDir}`;
    ctx.stdout.write(
      containers.length + images.length === 0
        ? `\nnothing to remove ${scope}\n`
        : `\ndry run: would remove ${what}; nothing was removed. Run again with --yes to remove them.\n`,
    );
    return 0;
  }
  let failed = 0;
  for (const container of containers) {
    await removeContainer(docker, container.id).catch((error: Error) => {
      failed++;
      ctx.stderr.write(`azlon: could not remove container ${container.id.slice(0, 12)}: ${error.message}\n`);
    });
  }
  // Tagged ones first: removing them takes their untagged parents along.
  for (const image of [...images].sort((a, b) => b.tags.length - a.tags.length)) {
    await removeImage(docker, image).catch((error: Error) => {
      failed++;
      ctx.stderr.write(
        `azlon: could not remove image ${image.tags[0] ?? image.id.slice(7, 19)}: ${error.message}\n`,
      );
    });
  }
  ctx.stdout.write(`\nremoved ${what}${failed ? `; ${failed} could not be removed` : ""}\n`);
  return 0;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function describePlan(ctx: CliContext, plan: CleanPlan, now: number, removing: boolean): void {
  const out = (line: string) => ctx.stdout.write(`${line}\n`);
  // Run ids, tags and owners come from labels, which anything on the engine can set.
  const text = shownAsText;
  if (plan.runs.length || plan.orphans.length) out(removing ? "removing:" : "would remove:");
  for (const run of plan.runs) {
    const age = run.entry?.updatedAt ? `, ${formatAge(now - Date.parse(run.entry.updatedAt))} ago` : "";
    // A run in the plan is not going on: one that says running was killed.
    out(
      `  run ${text(run.runId)} (${run.entry ? shownStatus(run.entry, false) : "no run folder here"}${age})`,
    );
    for (const image of run.images) {
      out(
        `    image      ${text(image.tags.join(", ")) || image.id.slice(7, 19)}  ${formatBytes(image.bytes)}`,
      );
    }
    for (const c of run.containers) out(`    container  ${c.id.slice(0, 12)}  ${c.state}`);
  }
  for (const c of plan.orphans) {
    out(
      `  container ${c.id.slice(0, 12)} of run ${text(c.runId)} (${c.state}; its azlon process ${text(c.labels[OWNER_PID_LABEL] ?? "")} is gone)`,
    );
  }
  if (plan.kept.length) out("left alone:");
  for (const k of plan.kept) out(`  run ${text(k.runId)}: ${text(k.why)}`);
}
