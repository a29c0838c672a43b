export interface RoundChanges {
  written: string[];
  deleted: string[];
  refused?: unknown[];
  dockerfileChanged?: boolean;
}
export interface BuildOutcome {
  ok: boolean;
  timedOut: boolean;
  durationMs: number;
  cause?: string | null;
}
export interface ExecOutcome {
  exitCode: number | null;
  timedOut: boolean;
  oomKilled?: boolean;
  signal?: string | null;
  durationMs: number;
  outputBytes?: number;
  truncated?: boolean;
}
export interface UsageCounts {
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
}
export const NO_PRICE: string;
export function costText(usd: number | null | undefined, options?: { short?: boolean }): string;
export function tokensText(usage: UsageCounts | null | undefined): string;
export function filesWritten(changes: Pick<RoundChanges, "written" | "dockerfileChanged">): number;
export function changesText(changes: RoundChanges): string;
export function buildText(build: BuildOutcome): string;
export function execText(exec: ExecOutcome): string;
export function execOk(exec: ExecOutcome): boolean;
export function checksText(
  checks: { passed: number; total: number; serviceReady?: boolean | null },
  problem?: string | null,
): string;
export function verdictText(verdict: { passed: boolean; accepted: boolean }): string;
export function reusedText(from: number): string;
// biome-ignore lint/suspicious/noExplicitAny: a round's summary as run.json holds it
export function roundOutcome(summary: any): string;
// biome-ignore lint/suspicious/noExplicitAny: a round's summary as run.json holds it
export function outputNote(summary: any): string | null;
// biome-ignore lint/suspicious/noExplicitAny: a round's summary as run.json holds it
export function phaseParts(summary: any): string[];
