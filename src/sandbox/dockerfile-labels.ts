/**
 * The run's labels as a LABEL instruction right after the final stage's FROM line, so that the
 * classic builder caches it from the second build on. The `labels` build option would add the
 * same instruction as the last step instead, whose parent changes every round: one more
 * container and commit per build (about a third of a small build's time).
 *
 * Returns null when the Dockerfile is not plain enough to edit safely (a parser directive such
 * as escape, a FROM continued on the next line, no FROM): the caller then uses the option.
 * Lines after the inserted one move down by one in the engine's messages.
 */
export function labelDockerfile(dockerfile: string, labels: Readonly<Record<string, string>>): string | null {
  const lines = dockerfile.split("\n");
  let lastFrom = -1;
  let continued = false;
  let directives = true;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    // Parser directives come first, before any instruction or other comment: escape changes
    // what continues a line, so such a file is left alone.
    if (directives && /^#\s*[a-z]+\s*=/i.test(line)) {
      if (/^#\s*escape\s*=/i.test(line)) return null;
      continue;
    }
    directives = false;
    if (line.startsWith("#") && !continued) continue;
    if (!continued && /^FROM\s/i.test(line)) {
      if (line.endsWith("\\")) return null;
      lastFrom = i;
    }
    if (line !== "" && !line.startsWith("#")) continued = line.endsWith("\\");
  }
  if (lastFrom < 0 || continued) return null;
  const pairs = Object.entries(labels).map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`);
  lines.splice(lastFrom + 1, 0, `LABEL ${pairs.join(" ")}`);
  return lines.join("\n");
}

/** The line (from 1) labelDockerfile put its LABEL on, or null when it changed nothing. */
export function labelLineOf(original: string, labelled: string | null): number | null {
  if (labelled === null) return null;
  const a = original.split("\n");
  const b = labelled.split("\n");
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return i + 1;
  return null;
}

/**
 * An engine's error with the Dockerfile's line numbers as the model wrote them: the builder
 * counted azlon's LABEL line, so every line after it is one less in the model's file.
 */
export function modelLineNumbers(message: string, labelLine: number | null): string {
  if (labelLine === null) return message;
  return message.replace(/\b(line |Dockerfile:)(\d+)/g, (whole, prefix: string, n: string) => {
    const line = Number(n);
    return line > labelLine ? `${prefix}${line - 1}` : whole;
  });
}
