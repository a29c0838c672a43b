import { createHash } from "node:crypto";
import { UsageError } from "../core/errors.js";

/** One of n equal parts of a batch, 1-based as GitLab's CI_NODE_INDEX / CI_NODE_TOTAL. */
export interface Shard {
  index: number;
  total: number;
}

const SHARD_HINT =
  "give --shard i/n with 1 <= i <= n, e.g. --shard 2/3 (1-based; Kubernetes' 0-based JOB_COMPLETION_INDEX is i - 1)";

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--shard ${JSON.stringify(text)} is not of the form i/n`, SHARD_HINT);
  const index = Number(m[1]);
  const total = Number(m[2]);
  if (total < 1 || total > 10_000)
    throw new UsageError(`--shard ${text}: n must be from 1 to 10000`, SHARD_HINT);
  if (index < 1 || index > total) {
    throw new UsageError(`--shard ${text}: i must be from 1 to ${total}`, SHARD_HINT);
  }
  return { index, total };
}

/** A task's place in the shard order: its id's digest, so the order of the file plays no part. */
function rank(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}

/**
 * The tasks of one shard: every task is in exactly one of the n shards whatever order they
 * are listed in, and the shards differ in size by at most one (dealt round the digest order).
 */
export function selectShard<T extends { id: string }>(tasks: readonly T[], shard: Shard | null): T[] {
  if (!shard || shard.total === 1) return [...tasks];
  const dealt = tasks
    .map((task) => ({ task, key: rank(task.id) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.task.id < b.task.id ? -1 : 1));
  const mine = new Set(dealt.filter((_, i) => i % shard.total === shard.index - 1).map((d) => d.task.id));
  // The batch keeps the file's order within the shard: progress and reports read as listed.
  return tasks.filter((task) => mine.has(task.id));
}
