import Docker from "dockerode";
import { describe, it } from "vitest";
import { BUSYBOX } from "./images.js";

/** The Podman service .ci/setup-podman.sh starts (`podman system service`), speaking Docker's API. */
export const PODMAN_SOCKET = process.env.AZLON_TEST_PODMAN_SOCKET ?? "/run/azlon-podman/podman.sock";
export const PODMAN_HOST = `unix://${PODMAN_SOCKET}`;
export const podman = new Docker({ socketPath: PODMAN_SOCKET });

async function podmanProblem(): Promise<string | null> {
  try {
    const version = (await podman.version()) as { Components?: Array<{ Name?: string }> };
    if (!(version.Components ?? []).some((c) => /podman/i.test(c.Name ?? ""))) {
      return `${PODMAN_SOCKET} answers, but not as Podman`;
    }
  } catch (error) {
    return `no Podman service answers at ${PODMAN_SOCKET} (${(error as Error).message}); run: bash .ci/setup-podman.sh`;
  }
  try {
    await podman.getImage(BUSYBOX).inspect();
  } catch {
    return `the base image ${BUSYBOX} is missing in Podman; run: bash .ci/setup-podman.sh`;
  }
  return null;
}

const problem = await podmanProblem();
const inCI = !!process.env.CI && process.env.CI !== "false";

/** A describe block that needs Podman: a failure in CI without it, a loud skip elsewhere. */
export function describePodman(name: string, body: () => void): void {
  if (!problem) describe(name, body);
  else if (inCI) {
    describe(name, () => {
      it("needs Podman", () => {
        throw new Error(problem);
      });
    });
  } else {
    console.warn(`\n*** SKIPPED "${name}": ${problem}\n`);
    describe.skip(name, body);
  }
}

/** Containers (and volumes) Podman still has of a run. */
export async function podmanLeftovers(runId: string): Promise<{ containers: number; volumes: number }> {
  const filters = JSON.stringify({ label: [`azlon.run=${runId}`] });
  const containers = await podman.listContainers({ all: true, filters });
  const volumes = (await podman.listVolumes({ filters })).Volumes ?? [];
  return { containers: containers.length, volumes: volumes.length };
}
