import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type Docker from "dockerode";
import { pack } from "tar-fs";
import { pack as packTar } from "tar-stream";
import { CHECKS_MOUNT } from "../core/types.js";

/** Where a trusted check image finds what it checks: the project, the program's run, the user's checks. */
export const INPUTS_MOUNT = "/azlon";
export const PROJECT_DIR = `${INPUTS_MOUNT}/project`;
export const OUTPUT_DIR = `${INPUTS_MOUNT}/output`;

/** A folder as a tar for putArchive: every entry root's and readable by whatever user a check runs as. */
function packFolder(dir: string, prefix = ""): NodeJS.ReadableStream {
  return pack(dir, {
    map: (header) => {
      header.name = prefix ? `${prefix}/${header.name}` : header.name;
      header.uid = 0;
      header.gid = 0;
      if (header.type === "directory") header.mode = 0o755;
      else if (header.type !== "symlink") header.mode = (header.mode ?? 0o644) | 0o444;
      return header;
    },
  }) as unknown as NodeJS.ReadableStream;
}

/** A tar of a few files made here (the program's output), root's and readable by all. */
function packFiles(files: Array<{ name: string; data: Buffer | string }>): NodeJS.ReadableStream {
  const tar = packTar();
  for (const file of files) tar.entry({ name: file.name, mode: 0o644, uid: 0, gid: 0 }, file.data);
  tar.finalize();
  return tar as unknown as NodeJS.ReadableStream;
}

/**
 * Copies the user's checks folder to /azlon/checks in a container, through the engine's API
 * (the engine may be remote), into the fresh volume mounted there: whatever the image holds at
 * that path is hidden, so the model can neither replace a check nor add a file beside it.
 */
export async function copyChecks(container: Docker.Container, dir: string): Promise<void> {
  await container.putArchive(packFolder(dir, CHECKS_MOUNT.slice(1)), { path: "/" });
}

/** An anonymous volume at /azlon/checks: made empty for the container, removed with it. */
export function checksVolume(labels: Record<string, string>): Docker.MountSettings {
  // The type definitions ask for a source and a driver; the engine wants neither for this.
  return {
    Type: "volume",
    Target: CHECKS_MOUNT,
    VolumeOptions: { NoCopy: true, Labels: labels },
  } as unknown as Docker.MountSettings;
}

export interface InputsSpec {
  projectDir: string;
  checksDir: string | null;
  /** The program's run: its stdout and stderr files and exit code; null for a service (still running). */
  program: { exitCode: number | null; streams: { stdout: string; stderr: string } | null } | null;
}

/**
 * The inputs of checks in a trusted image: one volume of the engine's, filled through its API
 * (by a container of the check image that never starts) and mounted read-only at /azlon in
 * every check container: project/, output/ (stdout, stderr, exit-code), checks/.
 */
export class CheckInputs {
  private constructor(
    private readonly docker: Docker,
    readonly volume: string,
  ) {}

  static async create(
    docker: Docker,
    image: string,
    labels: Record<string, string>,
    spec: InputsSpec,
  ): Promise<CheckInputs> {
    const name = `azlon-checks-${randomBytes(6).toString("hex")}`;
    await docker.createVolume({ Name: name, Labels: labels });
    const inputs = new CheckInputs(docker, name);
    let loader: Docker.Container | null = null;
    try {
      loader = await docker.createContainer({
        Image: image,
        Entrypoint: ["/azlon-never-started"],
        Cmd: [],
        Labels: labels,
        NetworkDisabled: true,
        HostConfig: {
          NetworkMode: "none",
          Mounts: [{ Type: "volume", Source: name, Target: INPUTS_MOUNT } as Docker.MountSettings],
        },
      });
      const dirs = [
        { name: "project/", data: "" },
        { name: "output/", data: "" },
        { name: "checks/", data: "" },
      ];
      const folders = packTar();
      for (const dir of dirs)
        folders.entry({ name: dir.name, type: "directory", mode: 0o755, uid: 0, gid: 0 });
      folders.finalize();
      await loader.putArchive(folders as unknown as NodeJS.ReadableStream, { path: INPUTS_MOUNT });
      await loader.putArchive(packFolder(spec.projectDir), { path: PROJECT_DIR });
      if (spec.checksDir) await loader.putArchive(packFolder(spec.checksDir), { path: CHECKS_MOUNT });
      if (spec.program) {
        const read = (path: string | undefined) =>
          path ? readFile(path).catch(() => Buffer.alloc(0)) : Buffer.alloc(0);
        const files = [
          { name: "stdout", data: await read(spec.program.streams?.stdout) },
          { name: "stderr", data: await read(spec.program.streams?.stderr) },
          ...(spec.program.exitCode === null
            ? []
            : [{ name: "exit-code", data: `${spec.program.exitCode}\n` }]),
        ];
        await loader.putArchive(packFiles(files), { path: OUTPUT_DIR });
      }
    } catch (error) {
      await inputs.remove(loader);
      throw error;
    }
    await loader.remove({ force: true }).catch(() => {});
    return inputs;
  }

  /** The volume, read-only at /azlon: a check cannot change what the next one sees. */
  mount(): Docker.MountSettings {
    return {
      Type: "volume",
      Source: this.volume,
      Target: INPUTS_MOUNT,
      ReadOnly: true,
    } as Docker.MountSettings;
  }

  /** Removes the volume (and a loader left over); never throws. The sandbox's cleanup retries by label. */
  async remove(loader: Docker.Container | null = null): Promise<void> {
    await loader?.remove({ force: true }).catch(() => {});
    await this.docker
      .getVolume(this.volume)
      .remove({ force: true })
      .catch(() => {});
  }
}
