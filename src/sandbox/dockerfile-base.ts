/**
 * The image a Dockerfile's final stage starts from, followed through stage names (`FROM build`)
 * and the ARG defaults declared before the first FROM (`FROM ${BASE}`), as the builder reads
 * them. "scratch" when it starts from nothing; null when it cannot be told (no FROM, an ARG
 * without a default): what the build replaced cannot be known then.
 */
export function baseImageOf(dockerfile: string): string | null {
  const stages = new Map<string, string>();
  const args = new Map<string, string | undefined>();
  let last: string | null = null;
  let seenFrom = false;
  for (const instruction of instructions(dockerfile)) {
    const [keyword = "", ...rest] = instruction.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === "ARG" && !seenFrom) {
      for (const decl of rest) {
        const eq = decl.indexOf("=");
        const name = eq < 0 ? decl : decl.slice(0, eq);
        args.set(name, eq < 0 ? undefined : unquote(decl.slice(eq + 1)));
      }
    }
    if (upper !== "FROM") continue;
    seenFrom = true;
    const words = rest.filter((w) => !w.startsWith("--"));
    const image = substitute(words[0] ?? "", args);
    if (image === null || image === "") return null;
    const from = stages.get(image.toLowerCase()) ?? image;
    const as = words[1]?.toUpperCase() === "AS" ? words[2] : undefined;
    if (as) stages.set(as.toLowerCase(), from);
    last = from;
  }
  return last;
}

/** The instructions of a Dockerfile: comments dropped, continued lines joined. */
function instructions(dockerfile: string): string[] {
  const lines = dockerfile.split(/\r?\n/);
  const continuation = /^#\s*escape\s*=\s*`/im.test(lines.slice(0, 5).join("\n")) ? "`" : "\\";
  const out: string[] = [];
  let current = "";
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith("#")) continue;
    if (line.endsWith(continuation)) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) out.push(current.trim());
    current = "";
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

function unquote(text: string): string {
  return /^(["']).*\1$/.test(text) ? text.slice(1, -1) : text;
}

/** $NAME, ${NAME}, ${NAME:-default} and ${NAME:+alt} from the ARG defaults; null for one without a value. */
function substitute(text: string, args: Map<string, string | undefined>): string | null {
  let unknown = false;
  const value = (name: string) => {
    const v = args.get(name);
    return v === undefined || v === "" ? undefined : v;
  };
  const result = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, braced?: string, op?: string, word?: string, bare?: string) => {
      const name = (braced ?? bare) as string;
      const v = value(name);
      if (op === "-") return v ?? word ?? "";
      if (op === "+") return v === undefined ? "" : (word ?? "");
      if (v === undefined) unknown = true;
      return v ?? "";
    },
  );
  return unknown ? null : unquote(result);
}

/**
 * The images a Dockerfile with no RUN step builds from (each stage's FROM, ARG defaults followed;
 * stage names and scratch left out), or null when a step runs something or a FROM cannot be told.
 * Such a build runs nothing the model wrote, only the base images' ONBUILD triggers (the caller
 * looks at those).
 */
export function runlessBases(dockerfile: string): string[] | null {
  const stages = new Set<string>();
  const args = new Map<string, string | undefined>();
  const bases = new Set<string>();
  let seenFrom = false;
  for (const instruction of instructions(dockerfile)) {
    const [keyword = "", ...rest] = instruction.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === "RUN") return null;
    if (upper === "ARG" && !seenFrom) {
      for (const decl of rest) {
        const eq = decl.indexOf("=");
        args.set(eq < 0 ? decl : decl.slice(0, eq), eq < 0 ? undefined : unquote(decl.slice(eq + 1)));
      }
    }
    if (upper !== "FROM") continue;
    seenFrom = true;
    const words = rest.filter((w) => !w.startsWith("--"));
    const image = substitute(words[0] ?? "", args);
    if (image === null || image === "") return null;
    if (!stages.has(image.toLowerCase()) && image.toLowerCase() !== "scratch") bases.add(image);
    if (words[1]?.toUpperCase() === "AS" && words[2]) stages.add(words[2].toLowerCase());
  }
  return seenFrom ? [...bases] : null;
}
