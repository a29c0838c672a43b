export function formatBytes(bytes: number): string;
export function formatDuration(ms: number): string;
export function formatCount(n: number): string;
