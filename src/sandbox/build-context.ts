import { lstatSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import dockerignore, { type Ignore } from "@balena/dockerignore";
import { pack } from "tar-fs";

// A CommonJS module: Node hands its function over as the default, TypeScript's view differs.
const ignore = ((dockerignore as unknown as { default?: unknown }).default ??
  dockerignore) as unknown as () => Ignore;

/** The Dockerfile's name in the build context (the engine's default). */
export const DOCKERFILE = "Dockerfile";
const DOCKERIGNORE = ".dockerignore";

export async function readDockerfile(contextDir: string): Promise<string> {
  try {
    return await readFile(join(contextDir, DOCKERFILE), "utf8");
  } catch {
    return ""; // the build says what is missing
  }
}

/**
 * The paths `docker build` would leave out of the context, from the context's .dockerignore
 * (Docker's own pattern rules, by a port of its matcher); null when there is none. The
 * Dockerfile and .dockerignore are always sent, as the docker CLI sends them.
 */
export function dockerignoreFilter(
  contextDir: string,
): ((relPath: string, isDir: boolean) => boolean) | null {
  let text: string;
  try {
    text = readFileSync(join(contextDir, DOCKERIGNORE), "utf8");
  } catch {
    return null;
  }
  const patterns = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  if (patterns.length === 0) return null;
  const matcher = ignore().add(patterns);
  // With an exception (!pattern), a file inside an ignored folder may come back: the folder
  // is walked and its files judged one by one, as Docker does.
  const exceptions = patterns.some((p) => p.startsWith("!"));
  return (relPath, isDir) => {
    if (relPath === DOCKERFILE || relPath === DOCKERIGNORE) return false;
    if (isDir && exceptions) return false;
    return matcher.ignores(relPath);
  };
}

/** The build context as a tar stream: .dockerignore honoured; the Dockerfile replaced by `dockerfile` if given. */
export function packContext(contextDir: string, dockerfile: string | null): Readable {
  const ignored = dockerignoreFilter(contextDir);
  const bytes = dockerfile === null ? null : Buffer.from(dockerfile);
  return pack(contextDir, {
    ...(ignored
      ? {
          ignore: (name: string) => {
            const rel = relative(contextDir, name).split(sep).join("/");
            // tar-fs asks with the name only: folders are told apart by asking the disk.
            return rel !== "" && ignored(rel, isDirectory(name));
          },
        }
      : {}),
    ...(bytes
      ? {
          map: (header) => (header.name === DOCKERFILE ? { ...header, size: bytes.length } : header),
          mapStream: (stream, header) => {
            if (header.name !== DOCKERFILE) return stream;
            stream.resume(); // the file on disk is not sent: its labelled copy is
            return Readable.from([bytes]) as unknown as typeof stream;
          },
        }
      : {}),
  }) as unknown as Readable;
}

function isDirectory(path: string): boolean {
  try {
    // lstat: a link is never followed out of the context.
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}
