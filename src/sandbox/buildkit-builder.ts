import type { Readable } from "node:stream";
import type Docker from "dockerode";
import type { BuildResult, Limits } from "../core/types.js";
import { packContext } from "./build-context.js";
import { buildOptions, streamBuild } from "./build-stream.js";
import type { BuildSpec, ImageBuilder } from "./builder.js";
import { BuildKitLog } from "./buildkit-status.js";
import type { OutputCapture } from "./output.js";

interface BuildEvent {
  id?: string;
  aux?: unknown;
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * The engine's BuildKit, through its API (`version=2`, no client session: azlon pulls nothing
 * with credentials), for Dockerfiles that need it. Its progress is decoded into the plain lines
 * the classic builder prints. The engine's BuildKit does not apply the build's memory and CPU
 * limits to RUN steps (measured): the time limit is azlon's own and holds.
 */
export class BuildKitBuilder implements ImageBuilder {
  readonly kind = "buildkit";

  constructor(
    private readonly docker: Docker,
    private readonly limits: Limits,
    private readonly capture: (path: string) => OutputCapture,
  ) {}

  build(spec: BuildSpec, signal: AbortSignal): Promise<BuildResult> {
    const { limits } = this;
    const progress = new BuildKitLog();
    return streamBuild(
      spec,
      limits,
      this.capture(spec.log.path),
      {
        open: (dockerfile, requestSignal, labelsAsOption) =>
          new Promise<Readable>((resolve, reject) => {
            this.docker.modem.dial(
              {
                path: "/build?",
                method: "POST",
                file: packContext(spec.contextDir, dockerfile),
                options: { version: "2", ...buildOptions(spec, limits, labelsAsOption) },
                abortSignal: requestSignal,
                isStream: true,
                statusCodes: { 200: true, 400: "bad parameter", 500: "server error" },
              } as unknown as Parameters<Docker["modem"]["dial"]>[0],
              (error: unknown, data: unknown) => (error ? reject(error) : resolve(data as Readable)),
            );
          }),
        line: async (text, log) => {
          let event: BuildEvent;
          try {
            event = JSON.parse(text) as BuildEvent;
          } catch {
            await log.capture.writeText(`${text}\n`);
            return;
          }
          if (event.error || event.errorDetail) {
            await log.fail(event.errorDetail?.message ?? event.error ?? "");
          } else if (event.id === "moby.buildkit.trace" && typeof event.aux === "string") {
            const lines = progress.lines(event.aux);
            if (lines.length) await log.capture.writeText(`${lines.join("\n")}\n`);
          } else if (event.id === "moby.image.id") {
            log.imageId = (event.aux as { ID?: string } | undefined)?.ID ?? log.imageId;
          } else if (event.stream) {
            await log.capture.writeText(event.stream);
          }
        },
      },
      signal,
    );
  }
}
