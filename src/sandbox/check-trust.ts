import { posix } from "node:path";
import type Docker from "dockerode";
import type { CheckTrust, TrustStatus } from "../core/types.js";
import { baseImageOf } from "./dockerfile-base.js";
import { CHECK_SHELL } from "./exec.js";
import { type FileFingerprint, ImageFiles } from "./image-files.js";

/** Words the shell runs itself: a check starting with one trusts only the shell. */
const SHELL_WORDS = new Set(
  (
    ". : [ alias bg break cd command continue echo eval exec exit export false fg getopts hash " +
    "jobs kill local printf pwd read readonly return set shift source test times trap true type " +
    "ulimit umask unalias unset wait if then else elif fi for while until do done case esac ! { } ( )"
  ).split(" "),
);
/** Where a PATH that the image does not set looks (the engine's default). */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The command a check runs first: its first word after any VAR=value assignments; null when none. */
export function commandWord(command: string): string | null {
  for (const word of command.trim().split(/\s+/)) {
    if (word === "") continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    return word.replace(/^\(+/, "").replace(/[;&|)]+$/, "") || null;
  }
  return null;
}

/** How a file of the built image stands against the same path of the base image. */
function compare(built: FileFingerprint | null, base: FileFingerprint | null | "unknown"): TrustStatus {
  if (built?.kind !== "file") return "missing";
  if (base === "unknown") return "unverified";
  if (base?.kind !== "file") return "added";
  return base.resolved === built.resolved && base.digest === built.digest ? "base" : "changed";
}

/** Base images' fingerprints, by image id and path: they do not change while a run goes on. */
export type BaseCache = Map<string, Promise<FileFingerprint | null>>;

/**
 * What the checks of the project's own image rely on, compared through the engine's API (never
 * with tools inside the image) with the FROM image: the shell azlon runs them with, and each
 * command's first word as the image's PATH resolves it. Nothing here runs anything.
 */
export async function checkTrust(
  docker: Docker,
  image: string,
  dockerfile: string,
  commands: readonly string[],
  labels: Record<string, string>,
  cache: BaseCache,
): Promise<CheckTrust> {
  const base = baseImageOf(dockerfile);
  const built = new ImageFiles(docker, image, labels);
  const baseImage =
    base === null || base === "scratch"
      ? null
      : await docker
          .getImage(base)
          .inspect()
          .catch(() => null);
  const baseFiles = baseImage ? new ImageFiles(docker, base as string, labels) : null;
  const inBase = (path: string): Promise<FileFingerprint | null | "unknown"> => {
    if (base === "scratch") return Promise.resolve(null);
    if (!baseImage || !baseFiles) return Promise.resolve("unknown");
    const key = `${baseImage.Id}:${path}`;
    let found = cache.get(key);
    if (!found) {
      found = baseFiles.fingerprint(path);
      found.catch(() => cache.delete(key));
      cache.set(key, found);
    }
    return found;
  };
  try {
    const config = (await docker.getImage(image).inspect()).Config ?? {};
    const path = (config.Env ?? []).find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
    const workdir = config.WorkingDir || "/";
    const shell = {
      path: CHECK_SHELL,
      status: compare(await built.fingerprint(CHECK_SHELL), await inBase(CHECK_SHELL)),
    };
    const checked: CheckTrust["commands"] = [];
    for (const command of commands) {
      const word = commandWord(command);
      if (word === null || SHELL_WORDS.has(word)) {
        checked.push({ command, word: word ?? "", path: null, status: "builtin" });
        continue;
      }
      let found: string | null = null;
      let fingerprint: FileFingerprint | null = null;
      const candidates = word.includes("/")
        ? [posix.resolve(workdir, word)]
        : path
            .split(":")
            .filter((d) => d.startsWith("/"))
            .map((d) => posix.join(d, word));
      for (const candidate of candidates) {
        const fp = await built.fingerprint(candidate);
        if (fp?.kind === "file") {
          found = candidate;
          fingerprint = fp;
          break;
        }
      }
      checked.push({
        command,
        word,
        path: found,
        status: found ? compare(fingerprint, await inBase(found)) : "missing",
      });
    }
    return { checkImage: null, base, shell, commands: checked };
  } finally {
    await Promise.all([built.close(), baseFiles?.close()]);
  }
}

/** Why the checks cannot be trusted to decide, or null: the shell they run with is not the base image's. */
export function untrustedShell(trust: CheckTrust): string | null {
  const shell = trust.shell;
  if (!shell || shell.status === "base") return null;
  const what =
    shell.status === "changed"
      ? `the build replaced ${shell.path}`
      : shell.status === "added"
        ? `${shell.path} is not the FROM image's (${trust.base ?? "unknown"}): the build added it`
        : shell.status === "missing"
          ? `the image has no ${shell.path}`
          : `the Dockerfile's FROM image cannot be told, so ${shell.path} cannot be compared with it`;
  return `not run: ${what}, the shell azlon runs checks with; checks run only with the FROM image's own shell (restore it, or have the user run checks in a trusted image with --check-image)`;
}
