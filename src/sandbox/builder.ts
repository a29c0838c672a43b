import type { BuildResult, LogTarget } from "../core/types.js";

/** What a build needs besides the context: where the image goes and what it is labelled. */
export interface BuildSpec {
  contextDir: string;
  tag: string;
  /** The run's labels, on the image (azlon's own win over any the Dockerfile sets). */
  labels: Record<string, string>;
  /** Apply the labels as the build's last step (they then win whatever the Dockerfile says). */
  labelsLast: boolean;
  log: LogTarget;
  /** A line the build log opens with (which builder, and why). */
  note?: string | null;
  /** The Dockerfile to build instead of the context's (its cache mounts left out), or none. */
  dockerfile?: string | null;
}

/** Builds an image from a context folder with the run's limits; the engine's builder behind it. */
export interface ImageBuilder {
  /** "classic" (the engine's legacy builder) or "buildkit". */
  readonly kind: string;
  build(spec: BuildSpec, signal: AbortSignal): Promise<BuildResult>;
}
