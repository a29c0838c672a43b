import type Docker from "dockerode";
import { UsageError } from "../core/errors.js";
import { describeDockerError } from "./docker-errors.js";

/**
 * Makes sure the engine has an image the user named (the check image), pulling it when it can:
 * a wrong name is a usage error before any request, not a failed round after tokens were spent.
 */
export async function ensureImage(docker: Docker, image: string, flag: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch {
    // Not here: pulled below.
  }
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())),
    );
  } catch (error) {
    throw new UsageError(
      `the image ${image} (${flag}) is not on the Docker engine and could not be pulled: ${describeDockerError(error)}`,
      "name an image the engine has (see `docker images`), or pull or build it first",
    );
  }
}
