import type { Readable } from "node:stream";
import type Docker from "dockerode";
import type { BuildResult, Limits } from "../core/types.js";
import { packContext } from "./build-context.js";
import { buildOptions, streamBuild } from "./build-stream.js";
import type { BuildSpec, ImageBuilder } from "./builder.js";
import type { OutputCapture } from "./output.js";

interface BuildEvent {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** A build step's resulting image, as the classic builder prints it: " ---> 3f2e1d0c9b8a". */
const STEP_IMAGE = /^\s*---> ([0-9a-f]{12,64})\s*$/m;

/**
 * The engine's classic builder: RUN steps get the run's memory and CPU limits (it enforces
 * them; BuildKit through the API does not), and the log is the engine's JSON stream.
 */
export class ClassicBuilder implements ImageBuilder {
  readonly kind = "classic";

  constructor(
    private readonly docker: Docker,
    private readonly limits: Limits,
    private readonly capture: (path: string) => OutputCapture,
    /** Removes the image a failed build's last step left (unlabelled, untagged). */
    private readonly removeLeftover: (imageId: string) => Promise<void>,
  ) {}

  build(spec: BuildSpec, signal: AbortSignal): Promise<BuildResult> {
    const { limits } = this;
    // The image of the last step that succeeded: a failed build leaves it (and its untagged
    // parents) behind without the run's label, which the classic builder adds only at the end.
    let lastStepImage: string | null = null;
    return streamBuild(
      spec,
      limits,
      this.capture(spec.log.path),
      {
        open: async (dockerfile, requestSignal, labelsAsOption) =>
          (await this.docker.buildImage(
            packContext(spec.contextDir, dockerfile) as unknown as NodeJS.ReadableStream,
            {
              ...buildOptions(spec, limits, labelsAsOption),
              abortSignal: requestSignal,
            } as Docker.ImageBuildOptions,
          )) as unknown as Readable,
        line: async (text, log) => {
          let event: BuildEvent;
          try {
            event = JSON.parse(text) as BuildEvent;
          } catch {
            event = { stream: `${text}\n` };
          }
          if (event.error || event.errorDetail) {
            await log.fail(event.errorDetail?.message ?? event.error ?? "");
          } else if (event.stream) {
            const step = STEP_IMAGE.exec(event.stream);
            if (step?.[1]) lastStepImage = step[1];
            await log.capture.writeText(event.stream);
          } else if (event.status && !event.progress) {
            await log.capture.writeText(`${event.id ? `${event.id}: ` : ""}${event.status}\n`);
          }
          if (event.aux?.ID) log.imageId = event.aux.ID;
        },
        // However the build ended short of an image, the last step's image goes.
        cleanUp: async () => {
          if (lastStepImage) await this.removeLeftover(lastStepImage);
        },
      },
      signal,
    );
  }
}
