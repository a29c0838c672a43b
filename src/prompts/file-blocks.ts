import type { FileEntry } from "../core/types.js";

/** A file as prompts show it. */
export function fileBlock(f: FileEntry): string {
  return `<file path="${f.path}">\n${f.content}${f.content.endsWith("\n") ? "" : "\n"}</file>`;
}

/**
 * The files' blocks, in their order, within `budget` bytes, and the files left out. When they
 * don't all fit, the ones `first` picks get the budget first.
 */
export function blocksWithin(
  files: readonly FileEntry[],
  budget: number,
  first: (f: FileEntry) => boolean = () => false,
): { shown: string[]; left: FileEntry[]; used: number } {
  const blocks = new Map(files.map((f) => [f, fileBlock(f)]));
  const kept = new Set<FileEntry>();
  let used = 0;
  for (const f of [...files.filter(first), ...files.filter((f) => !first(f))]) {
    const size = Buffer.byteLength(blocks.get(f) as string);
    if (used + size > budget) continue;
    used += size;
    kept.add(f);
  }
  return {
    shown: files.filter((f) => kept.has(f)).map((f) => blocks.get(f) as string),
    left: files.filter((f) => !kept.has(f)),
    used,
  };
}
