import Docker from "dockerode";
import { describe, it } from "vitest";
import { engineTarget } from "./engine.js";
import { BUSYBOX, PYTHON } from "./images.js";

const found = (() => {
  try {
    return engineTarget(process.env);
  } catch (error) {
    return error as Error;
  }
})();

/** The engine the CLI would use here (a placeholder when DOCKER_HOST itself is invalid). */
export const docker = found instanceof Error ? new Docker() : found.docker;

async function engineProblem(): Promise<string | null> {
  if (found instanceof Error) return `the Docker engine cannot be found: ${found.message}`;
  const where = `${found.target.address} (from ${found.target.source})`;
  try {
    await docker.ping();
  } catch (error) {
    return `no Docker engine answers at ${where} (${(error as Error).message}); run: bash .ci/setup-docker.sh`;
  }
  for (const image of [BUSYBOX, PYTHON]) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      return `the base image ${image} is missing on the engine at ${where}; run: bash .ci/setup-docker.sh`;
    }
  }
  return null;
}

const problem = await engineProblem();
const inCI = !!process.env.CI && process.env.CI !== "false";

/**
 * A describe block that needs the real Docker engine. In CI a missing engine fails the tier;
 * on a developer's machine without one it is skipped, loudly.
 */
export function describeDocker(name: string, body: () => void): void {
  if (!problem) {
    describe(name, body);
  } else if (inCI) {
    describe(name, () => {
      it("needs a Docker engine", () => {
        throw new Error(problem);
      });
    });
  } else {
    console.warn(`\n*** SKIPPED "${name}": ${problem}\n`);
    describe.skip(name, body);
  }
}

/** Containers and images carrying a run's label. */
export async function leftovers(runId: string): Promise<{ containers: number; images: string[] }> {
  const filters = JSON.stringify({ label: [`azlon.run=${runId}`] });
  const containers = await docker.listContainers({ all: true, filters });
  const images = await docker.listImages({ all: true, filters });
  // The layers under an image carry its labels (azlon labels right after FROM): a layer of
  // another listed image is part of it, not left over.
  const parents = new Set(images.map((i) => i.ParentId).filter(Boolean));
  const own = images.filter(
    (i) => (i.RepoTags ?? []).some((t) => t !== "<none>:<none>") || !parents.has(i.Id),
  );
  return { containers: containers.length, images: own.flatMap((i) => i.RepoTags ?? ["<none>"]) };
}

export async function removeImage(tag: string): Promise<void> {
  await docker
    .getImage(tag)
    .remove({ force: true })
    .catch(() => {});
}

/**
 * Removes every container and image carrying a run's label (for tests that leave them on
 * purpose), trying again while the engine is still removing a container azlon left behind.
 */
export async function removeLabelled(runId: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await removeLabelledOnce(runId);
    const left = await leftovers(runId);
    if (left.containers === 0 && left.images.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function removeLabelledOnce(runId: string): Promise<void> {
  const filters = JSON.stringify({ label: [`azlon.run=${runId}`] });
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => {});
  }
  for (const i of await docker.listImages({ all: true, filters })) {
    await docker
      .getImage(i.Id)
      .remove({ force: true })
      .catch(() => {});
  }
}
