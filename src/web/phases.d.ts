export interface RoundChanges {
  written: string[];
  deleted: string[];
  refused?: unknown[];
  dockerfileChanged?: boolean;
}
export function filesWritten(changes: Pick<RoundChanges, "written" | "dockerfileChanged">): number;
export function changesText(changes: RoundChanges): string;
export function phaseParts(
  // biome-ignore lint/suspicious/noExplicitAny: a round's summary as run.json holds it
  summary: any,
  format: { duration: (ms: number) => string; bytes: (n: number) => string; count: (n: number) => string },
): string[];
