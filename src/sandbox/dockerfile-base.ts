/**
 * The image a Dockerfile's final stage starts from, followed through stage names (`FROM build`)
 * and the ARG defaults declared before the first FROM (`FROM ${BASE}`), as the builder reads
 * them. "scratch" when it starts from nothing; null when it cannot be told (no FROM, an ARG
 * without a default): what the build replaced cannot be known then.
 */
export function baseImageOf(dockerfile: string): string | null {
  return fromsOf(dockerfile)?.at(-1)?.base ?? null;
}

/** A stage's FROM: the image it comes to (stage names followed). */
interface From {
  base: string;
  /** Names an image, not an earlier stage. */
  external: boolean;
}

/**
 * Each stage's FROM, ARG defaults substituted and stage names followed; null when one cannot be
 * told (an ARG without a default) or is no image name at all: such a name is never sent to the
 * engine's API, whose paths it would be read into (`FROM ../info` is a path, not an image).
 */
function fromsOf(dockerfile: string): From[] | null {
  const stages = new Map<string, string>();
  const args = new Map<string, string | undefined>();
  const froms: From[] = [];
  for (const instruction of instructions(dockerfile)) {
    const [keyword = "", ...rest] = instruction.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === "ARG" && froms.length === 0) {
      for (const decl of rest) {
        const eq = decl.indexOf("=");
        args.set(eq < 0 ? decl : decl.slice(0, eq), eq < 0 ? undefined : unquote(decl.slice(eq + 1)));
      }
    }
    if (upper !== "FROM") continue;
    const words = rest.filter((w) => !w.startsWith("--"));
    const image = substitute(words[0] ?? "", args);
    if (image === null) return null;
    const stage = stages.get(image.toLowerCase());
    if (stage === undefined && !isImageReference(image)) return null;
    const base = stage ?? image;
    froms.push({ base, external: stage === undefined });
    if (words[1]?.toUpperCase() === "AS" && words[2]) stages.set(words[2].toLowerCase(), base);
  }
  return froms;
}

// Docker's reference grammar (distribution/reference): [domain[:port]/]path[:tag][@digest].
const DOMAIN =
  "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?";
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]+)?$`,
);

/** Whether a name is an image reference as the engine reads one (nothing else reaches its API). */
export function isImageReference(name: string): boolean {
  return REFERENCE.test(name);
}

/**
 * The instructions of a Dockerfile, read as the engine's parser reads them: comments dropped, and
 * a continued line joined to the next as it is (no space between: `R\` then `UN echo` is `RUN
 * echo` to the engine), comment and empty lines within it skipped.
 */
function instructions(dockerfile: string): string[] {
  const lines = dockerfile.split(/\r?\n/);
  const escapeChar = /^#\s*escape\s*=\s*`/im.test(lines.slice(0, 5).join("\n")) ? "`" : "\\";
  const continued = new RegExp(`\\${escapeChar}[ \\t]*$`);
  const out: string[] = [];
  let current: string | null = null;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith("#") || (current !== null && line === "")) continue;
    const text: string = current === null ? raw.trimStart() : raw;
    const goesOn = continued.test(text);
    current = (current ?? "") + (goesOn ? text.replace(continued, "") : text);
    if (goesOn) continue;
    if (current.trim()) out.push(current.trim());
    current = null;
  }
  if (current?.trim()) out.push(current.trim());
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
  if (instructions(dockerfile).some((i) => /^RUN(\s|$)/i.test(i))) return null;
  const froms = fromsOf(dockerfile);
  if (!froms?.length) return null;
  const bases = froms.filter((f) => f.external && f.base.toLowerCase() !== "scratch").map((f) => f.base);
  return [...new Set(bases)];
}
