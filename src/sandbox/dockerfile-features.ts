const RUN_FLAGS = new Set(["mount", "network", "security"]);
const COPY_FLAGS = new Set(["link", "chmod", "parents", "exclude", "checksum", "keep-git-dir"]);
/** <<EOF, <<-EOF, <<'EOF', <<"EOF": a here-document, whose body the classic builder reads as instructions. */
const HERE_DOCUMENT = /<<-?\s*(["']?)[A-Za-z_][A-Za-z0-9_]*\1/;

/**
 * The first Dockerfile feature only BuildKit builds, or null: the classic builder refuses these
 * ("the --mount option requires BuildKit"), so a Dockerfile with one is built with BuildKit.
 */
export function buildKitFeature(dockerfile: string): string | null {
  const lines = dockerfile.split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    if (!line.startsWith("#")) break;
    if (/^#\s*syntax\s*=/i.test(line)) return "a # syntax= directive";
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
    if (flag) return `${keyword} --${flag}`;
    if (HERE_DOCUMENT.test(rest)) return `a here-document in ${keyword}`;
  }
  return null;
}
