import { describe, expect, it } from "vitest";
import { parseShard, selectShard } from "../../src/batch/shard.js";
import { thrown } from "../helpers/thrown.js";

const tasks = Array.from({ length: 23 }, (_, i) => ({ id: `task-${i}` }));

describe("--shard i/n", () => {
  it("is 1-based, as GitLab's CI_NODE_INDEX", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, total: 3 });
    expect(parseShard(" 1 / 1 ")).toEqual({ index: 1, total: 1 });
  });

  it.each(["0/3", "4/3", "1/0", "a/b", "3", "-1/3", "1.5/3"])("refuses %s as a usage error", (text) => {
    const error = thrown(() => parseShard(text));
    expect(error.name).toBe("UsageError");
    expect(error.message).toContain(`--shard`);
    expect((error as { hint?: string }).hint).toContain("JOB_COMPLETION_INDEX is i - 1");
  });

  it("puts every task in exactly one shard, the shards differing in size by at most one", () => {
    const shards = [1, 2, 3].map((index) => selectShard(tasks, { index, total: 3 }).map((t) => t.id));
    const all = shards.flat();
    expect(all.sort()).toEqual(tasks.map((t) => t.id).sort());
    expect(new Set(all).size).toBe(tasks.length);
    const sizes = shards.map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it("gives each task the same shard whatever order the file lists them in", () => {
    const shuffled = [...tasks].reverse().sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? 1 : -1));
    for (const index of [1, 2, 3]) {
      const a = selectShard(tasks, { index, total: 3 })
        .map((t) => t.id)
        .sort();
      const b = selectShard(shuffled, { index, total: 3 })
        .map((t) => t.id)
        .sort();
      expect(b).toEqual(a);
    }
  });

  it("keeps the file's order within a shard; 1/1 and no shard are every task", () => {
    const mine = selectShard(tasks, { index: 2, total: 4 });
    expect(mine).toEqual(tasks.filter((t) => mine.includes(t)));
    expect(selectShard(tasks, { index: 1, total: 1 })).toEqual(tasks);
    expect(selectShard(tasks, null)).toEqual(tasks);
  });
});
