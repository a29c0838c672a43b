/** One line of a diff: in both texts, only in the old one, or only in the new one. */
export interface DiffOp {
  op: " " | "-" | "+";
  text: string;
}
/** A row as shown: a line, or a run of unchanged lines left out. */
export type DiffRow = DiffOp | { op: "skip"; count: number };

export const MAX_DIFF_CELLS: number;
export function splitLines(text: string | null | undefined): string[];
export function lineDiff(
  before: string | null | undefined,
  after: string | null | undefined,
  maxCells?: number,
): { ops: DiffOp[]; tooLarge: boolean };
export function diffRows(ops: DiffOp[], context?: number, maxRows?: number): DiffRow[];
export function diffStats(ops: DiffOp[]): { added: number; removed: number };
/** One file's change, ready to draw. */
export interface FileDiff {
  what: "created" | "deleted" | "changed";
  /** Shown in place of the rows when there is no diff to show. */
  note: string | null;
  added: number;
  removed: number;
  rows: Array<{ cls: "add" | "del" | "same" | "skip"; text: string }>;
}
export function fileDiff(change: {
  before: string | null;
  after: string | null;
  truncated?: boolean;
}): FileDiff;
/** One file of a git patch, ready to draw. */
export interface PatchFile {
  path: string;
  what: "created" | "deleted" | "changed";
  rows: Array<{ cls: "add" | "del" | "same" | "skip"; text: string }>;
}
export function patchFiles(text: string | null | undefined): PatchFile[];
