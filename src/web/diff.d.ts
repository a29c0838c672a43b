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
