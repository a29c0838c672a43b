const RUN_FLAGS = new Set(["mount", "network", "security"]);
const COPY_FLAGS = new Set(["link", "chmod", "parents", "exclude", "checksum", "keep-git-dir"]);
/** <<EOF, <<-EOF, <<'EOF', <<"EOF": a here-document, whose body the classic builder reads as instructions. */
const HERE_DOCUMENT = /<<-?\s*(["']?)[A-Za-z_][A-Za-z0-9_]*\1/;

/**
 * The first Dockerfile feature only BuildKit builds, or null: the classic builder refuses these
 * ("the --mount option requires BuildKit"), so a Dockerfile with one is built with BuildKit.
 */
export function buildKitFeature(dockerfile: string): string | null {
  return features(dockerfile)[0] ?? null;
}

/** A RUN's cache mount (`--mount=type=cache,target=/root/.cache/pip`): its target, or null. */
function cacheTarget(flag: string): string | null {
  const spec = /^--mount=([^\s]+)$/.exec(flag)?.[1];
  if (!spec) return null;
  const fields = new Map(
    spec.split(",").map((field) => {
      const at = field.indexOf("=");
      return at < 0 ? [field, ""] : [field.slice(0, at), field.slice(at + 1)];
    }),
  );
  // One seeded from another stage or image is more than a cache: it stays.
  if (fields.get("type") !== "cache" || fields.has("from") || fields.has("source") || fields.has("src"))
    return null;
  const target = fields.get("target") ?? fields.get("dst") ?? fields.get("destination") ?? "";
  return /^\/[A-Za-z0-9._/-]*$/.test(target) ? target : null;
}

/**
 * The Dockerfile without its RUN steps' cache mounts, when they are all it needs BuildKit for,
 * else null. A cache only speeds a step up; the step makes its target folder instead (a mount
 * would have), in the shell form only (an exec-form RUN keeps its mount, and BuildKit). Each
 * line stays where it was, so the engine's line numbers are the model's.
 */
export function withoutCacheMounts(dockerfile: string): string | null {
  if (!/--mount=/.test(dockerfile)) return null;
  const stripped = dockerfile
    .split("\n")
    .map((raw) => {
      const match = /^(\s*RUN\s+)((?:--[^\s]+\s+)*)(.*)$/i.exec(raw);
      if (!match) return raw;
      const flags = (match[2] as string).split(/\s+/).filter(Boolean);
      const targets = flags.map(cacheTarget);
      const command = match[3] as string;
      if (targets.every((t) => t === null) || command.trimStart().startsWith("[")) return raw;
      const kept = flags.filter((_, i) => targets[i] === null);
      const made = targets.filter((t): t is string => t !== null);
      return `${match[1]}${kept.map((f) => `${f} `).join("")}mkdir -p ${made.join(" ")} && ${command}`;
    })
    .join("\n");
  return stripped !== dockerfile && features(stripped).length === 0 ? stripped : null;
}

function features(dockerfile: string): string[] {
  const found: string[] = [];
  const lines = dockerfile.split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    if (!line.startsWith("#")) break;
    if (/^#\s*syntax\s*=/i.test(line)) found.push("a # syntax= directive");
  }
  for (const raw of lines) {
    const match = /^\s*(RUN|COPY|ADD)\s+(.*)$/i.exec(raw);
    if (!match) continue;
    const keyword = (match[1] as string).toUpperCase();
    const rest = match[2] as string;
    const flags = [...(/^(?:--[^\s]+\s+)*/.exec(rest)?.[0] ?? "").matchAll(/--([a-z-]+)/g)].map(
      (m) => m[1] as string,
    );
    const only = keyword === "RUN" ? RUN_FLAGS : COPY_FLAGS;
    const flag = flags.find((f) => only.has(f));
    if (flag) found.push(`${keyword} --${flag}`);
    if (HERE_DOCUMENT.test(rest)) found.push(`a here-document in ${keyword}`);
  }
  return found;
}
