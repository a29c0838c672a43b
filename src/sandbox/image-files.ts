import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { extract } from "tar-stream";
import { engineAnswered } from "./docker-errors.js";

/** Go's os.FileMode bits, as the engine's archive stat reports them. */
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
/** A file larger than this is told apart by its size and mode only (no image's shell is this big). */
const MAX_HASHED_BYTES = 64 * 2 ** 20;

/** One path of an image, its links followed: where it leads, and what is there. */
export interface FileFingerprint {
  /** The path after every link is followed. */
  resolved: string;
  kind: "file" | "directory";
  /** Permission bits, size and content hash: equal fingerprints are the same file. */
  digest: string;
}

interface PathStat {
  size: number;
  mode: number;
  linkTarget: string;
}

/**
 * An image's files, read through the engine's archive API from a container that is created and
 * never started: nothing inside the image runs, so nothing the build put there can lie about them.
 */
export class ImageFiles {
  private container: Promise<Docker.Container> | null = null;
  private readonly cache = new Map<string, Promise<FileFingerprint | null>>();

  constructor(
    private readonly docker: Docker,
    readonly image: string,
    private readonly labels: Record<string, string>,
  ) {}

  private open(): Promise<Docker.Container> {
    this.container ??= this.docker.createContainer({
      Image: this.image,
      // Never started: the command only has to exist for the engine to make the container.
      Entrypoint: ["/azlon-never-started"],
      Cmd: [],
      Labels: this.labels,
      NetworkDisabled: true,
      HostConfig: { NetworkMode: "none" },
    });
    return this.container;
  }

  /** The path's fingerprint, links followed; null when nothing is there. */
  fingerprint(path: string): Promise<FileFingerprint | null> {
    let found = this.cache.get(path);
    if (!found) {
      found = this.read(path);
      this.cache.set(path, found);
    }
    return found;
  }

  private async read(path: string): Promise<FileFingerprint | null> {
    const container = await this.open();
    const first = await stat(container, path);
    if (!first) return null;
    const resolved = first.linkTarget || path;
    const target = first.linkTarget ? await stat(container, resolved) : first;
    if (!target || target.mode & MODE_SYMLINK) return null;
    if (target.mode & MODE_DIR) return { resolved, kind: "directory", digest: "directory" };
    const perms = (target.mode & 0o7777).toString(8);
    const hash =
      target.size > MAX_HASHED_BYTES
        ? "unhashed"
        : await contentHash(container, resolved).catch(() => "unread");
    return { resolved, kind: "file", digest: `${perms}:${target.size}:${hash}` };
  }

  /** Removes the container; never throws. */
  async close(): Promise<void> {
    const container = await this.container?.catch(() => null);
    this.container = null;
    await container?.remove({ force: true }).catch(() => {});
  }
}

async function stat(container: Docker.Container, path: string): Promise<PathStat | null> {
  try {
    const response = (await container.infoArchive({ path })) as unknown as {
      headers: Record<string, string | undefined>;
      destroy?: () => void;
    };
    response.destroy?.();
    const header = response.headers["x-docker-container-path-stat"];
    if (!header) return null;
    return JSON.parse(Buffer.from(header, "base64").toString("utf8")) as PathStat;
  } catch (error) {
    if (engineAnswered(error)) return null;
    throw error;
  }
}

/** The SHA-256 of one file's bytes, from the engine's tar of it. */
async function contentHash(container: Docker.Container, path: string): Promise<string> {
  const archive = (await container.getArchive({ path })) as unknown as Readable;
  const hash = createHash("sha256");
  const reader = extract();
  await new Promise<void>((resolve, reject) => {
    reader.on("entry", (_header, stream, next) => {
      stream.on("data", (chunk: unknown) => hash.update(chunk as Buffer));
      stream.on("end", next);
      stream.resume();
    });
    reader.on("finish", resolve);
    reader.on("error", reject);
    archive.on("error", reject);
    archive.pipe(reader);
  });
  return hash.digest("hex");
}
