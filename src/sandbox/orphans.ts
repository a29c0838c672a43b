import type Docker from "dockerode";
import { describeDockerError } from "./docker-sandbox.js";
import { isOrphan, RUN_LABEL } from "./owner.js";

/** A container carrying the azlon.run label. */
export interface LabelledContainer {
  id: string;
  runId: string;
  /** "running", "exited", "created", ... */
  state: string;
  createdMs: number;
  labels: Record<string, string>;
}

/** An image carrying the azlon.run label. */
export interface LabelledImage {
  id: string;
  runId: string;
  tags: string[];
  bytes: number;
  createdMs: number;
  labels: Record<string, string>;
}

const LABELLED = JSON.stringify({ label: [RUN_LABEL] });

/** Every container on the engine with the azlon.run label, and nothing else. */
export async function labelledContainers(docker: Docker): Promise<LabelledContainer[]> {
  const list = await docker.listContainers({ all: true, filters: LABELLED });
  return list.flatMap((c) => {
    const runId = c.Labels?.[RUN_LABEL];
    if (!runId) return [];
    return [{ id: c.Id, runId, state: c.State, createdMs: c.Created * 1000, labels: c.Labels }];
  });
}

/** Every image on the engine with the azlon.run label (intermediate ones too), and nothing else. */
export async function labelledImages(docker: Docker): Promise<LabelledImage[]> {
  const list = await docker.listImages({ all: true, filters: LABELLED });
  // The layers under a labelled image carry its labels too (azlon labels right after FROM):
  // they go with it, so they are not listed, counted or sized on their own.
  const parents = new Set(list.map((i) => i.ParentId).filter(Boolean));
  return list.flatMap((i) => {
    const runId = i.Labels?.[RUN_LABEL];
    if (!runId) return [];
    const tags = (i.RepoTags ?? []).filter((t) => t !== "<none>:<none>").map(shortTag);
    if (!tags.length && parents.has(i.Id)) return [];
    return [{ id: i.Id, runId, tags, bytes: i.Size, createdMs: i.Created * 1000, labels: i.Labels }];
  });
}

/**
 * Removes a container, stopping it first; one that is gone already, or that another azlon is
 * removing at this moment (409 "removal ... already in progress"), is fine.
 */
export async function removeContainer(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) return;
    if (status === 409 && /already in progress/i.test(describeDockerError(error))) return;
    throw new Error(describeDockerError(error));
  }
}

/**
 * Removes an image azlon made: its azlon/ tags, and the image itself when no other tag is
 * left (a tag the user added keeps it). Returns whether the image is gone.
 */
/**
 * A tag as azlon wrote it: Podman lists "azlon/x" as "docker.io/azlon/x" (and a local image as
 * "localhost/..."), and answers to the short name all the same.
 */
export function shortTag(tag: string): string {
  return tag.replace(/^(?:docker\.io|localhost)\//, "");
}

export async function removeImage(docker: Docker, image: LabelledImage): Promise<boolean> {
  const own = image.tags.filter((t) => t.startsWith("azlon/"));
  try {
    for (const tag of own) await docker.getImage(tag).remove();
    if (own.length === image.tags.length) {
      await docker
        .getImage(image.id)
        .remove()
        .catch((error: unknown) => {
          // Removing its last tag may have removed it already.
          if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        });
      return true;
    }
    return false;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return true;
    throw new Error(describeDockerError(error));
  }
}

/**
 * Removes the containers that azlon processes now gone left behind (see isOrphan), on
 * every start: a killed azlon leaves a program running, unwatched, with no time limit.
 * Returns what was removed; problems go to `warn` and never fail the caller.
 */
export async function sweepOrphans(
  docker: Docker,
  warn: (message: string) => void,
  now: number = Date.now(),
): Promise<LabelledContainer[]> {
  const removed: LabelledContainer[] = [];
  try {
    for (const container of await labelledContainers(docker)) {
      if (!isOrphan(container.labels, now)) continue;
      try {
        await removeContainer(docker, container.id);
        removed.push(container);
      } catch (error) {
        warn(
          `could not remove the orphaned container ${container.id.slice(0, 12)}: ${(error as Error).message}`,
        );
      }
    }
  } catch (error) {
    warn(`could not look for orphaned containers: ${describeDockerError(error)}`);
  }
  return removed;
}
