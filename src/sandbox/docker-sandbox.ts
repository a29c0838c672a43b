import type Docker from "dockerode";
import type {
  BuildResult,
  CheckRequest,
  ChecksReport,
  ExecResult,
  Limits,
  LogTarget,
  Sandbox,
  ServiceRequest,
} from "../core/types.js";
import type { Gate } from "../util/gate.js";
import type { Redactor } from "../util/secrets.js";
import { readDockerfile } from "./build-context.js";
import type { ImageBuilder } from "./builder.js";
import { BuildKitBuilder } from "./buildkit-builder.js";
import type { CheckRunner } from "./check-runner.js";
import { ClassicBuilder } from "./classic-builder.js";
import { ContainerRunner } from "./container.js";
import { connectionLost, describeDockerError } from "./docker-errors.js";
import { runlessBases } from "./dockerfile-base.js";
import { buildKitFeature, withoutCacheMounts } from "./dockerfile-features.js";
import type { BuilderMode } from "./engine-info.js";
import { OwnImageChecks } from "./own-image-checks.js";
import { currentOwner, type Owner, ownerLabels, RUN_LABEL } from "./owner.js";
import { TrustedImageChecks } from "./trusted-checks.js";

export { connectDocker } from "./connect.js";
export { connectionLost, describeDockerError } from "./docker-errors.js";
export { RUN_LABEL } from "./owner.js";

/** The mask of a held-out check's line in what the program and the checks print. */
export const HIDDEN_LINE_MASK = "[hidden check line]";

export interface DockerSandboxOptions {
  runId: string;
  /** The tag every successful build gets; the last one is the run's deliverable. */
  imageTag: string;
  limits: Limits;
  maxModelBytes: number;
  maxLogBytes: number;
  redactor: Redactor;
  /** Told about cleanup problems, which never fail a run. */
  warn?: (message: string) => void;
  /** The process answerable for what is made (default: this one), labelled on it. */
  owner?: Owner;
  /** A trusted image the checks run in instead of the project's (--check-image). */
  checkImage?: string | null;
  /** Lines of held-out checks: masked in what the program and the checks print, so no model sees them. */
  hiddenLines?: readonly string[];
  /** Which builder a Dockerfile gets (default auto: BuildKit only for what needs it). */
  builder?: BuilderMode;
  /** Whether the engine has BuildKit (default: no, the classic builder for everything). */
  buildKit?: boolean;
  /** The engine's kind: Podman builds with Buildah, which has BuildKit's features and holds the limits. */
  engineName?: string;
  /** Whether the engine's BuildKit reads here-documents (Docker 23+; default yes). */
  hereDocuments?: boolean;
  /**
   * Shared by the runs of one process: how many at once walk from a build's start to their
   * program's start, the engine's CPU work (none: no bound).
   */
  startGate?: Gate;
}

/** How many times a build the engine lost an image under (see lostToRace) is tried again. */
const ENGINE_RACE_RETRIES = 2;

/** A build that failed because an image vanished under the engine's cache lookup. */
export function lostToRace(result: BuildResult): boolean {
  return (
    !result.timedOut && /^unable to find image "?sha256:[0-9a-f]{64}"?$/.test((result.cause ?? "").trim())
  );
}

/** The builder a Dockerfile gets, and what its build log opens with. */
interface BuilderChoice {
  builder: ImageBuilder;
  note: string | null;
  /** The Dockerfile to build instead (its cache mounts left out). */
  dockerfile?: string;
}

/** The Sandbox over a real Docker engine: labelled, limited, bounded, and cleaned up. */
export class DockerSandbox implements Sandbox {
  readonly imageTag: string;
  /** On containers and volumes: the run, and the process that owns them. */
  private readonly labels: Record<string, string>;
  /**
   * On images: the run only. They go into the build's Dockerfile after FROM, where the builder
   * caches them, and a label that named the process would make a resumed run (a new process)
   * build every step again.
   */
  private readonly imageLabels: Record<string, string>;
  private readonly runner: ContainerRunner;
  private readonly classic: ImageBuilder;
  private readonly buildKit: ImageBuilder | null;
  private readonly checks: CheckRunner;
  /** What the program and the checks print is masked with this (held-out checks' lines too). */
  private readonly outputRedactor: Redactor;
  /** The image this sandbox last built (the tag's), so the next build need not ask. */
  private lastImageId: string | null = null;
  /** Whether a build has started here (a cleanup before any is a resumed run's, for earlier legs). */
  private built = false;
  /**
   * Whether a build may have left images only a search by label finds: the classic builder's
   * step images (of a failed build), or a build that did not finish. A BuildKit build that did
   * makes the tagged image only, so the search (which reads every image the engine holds) is spared.
   */
  private strayImages = false;
  /** This run's place on the way to a running program (see build), held from its build. */
  private turn: (() => void) | null = null;
  /** The removal of the image before the last one, under way (it never rejects). */
  private removing: Promise<void> = Promise.resolve();

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerSandboxOptions,
  ) {
    this.imageTag = options.imageTag;
    this.imageLabels = { [RUN_LABEL]: options.runId };
    // The owner too, so that a later azlon can tell things of a live run from those of a dead one.
    this.labels = { ...this.imageLabels, ...ownerLabels(options.owner ?? currentOwner()) };
    this.outputRedactor = options.hiddenLines?.length
      ? options.redactor.with(options.hiddenLines, HIDDEN_LINE_MASK)
      : options.redactor;
    this.runner = new ContainerRunner(docker, {
      limits: options.limits,
      labels: this.labels,
      maxModelBytes: options.maxModelBytes,
      maxLogBytes: options.maxLogBytes,
      redactor: options.redactor,
      ...(options.warn ? { warn: options.warn } : {}),
      started: () => this.endTurn(),
    });
    const capture = (path: string) => this.runner.capture(path);
    this.classic = new ClassicBuilder(docker, options.limits, capture, (id) =>
      this.removeUntagged(id, { ownOnly: false }),
    );
    this.buildKit = options.buildKit ? new BuildKitBuilder(docker, options.limits, capture) : null;
    const common = {
      docker,
      runner: this.runner,
      image: this.imageTag,
      labels: this.labels,
      outputRedactor: this.outputRedactor,
    };
    this.checks = options.checkImage
      ? new TrustedImageChecks({ ...common, checkImage: options.checkImage })
      : new OwnImageChecks(common);
  }

  /**
   * The builder for this Dockerfile, and what the build log says of it: the classic builder holds
   * RUN steps to the memory and CPU limits and the engine's BuildKit does not, so BuildKit builds
   * only what needs it (RUN --mount, a here-document) and what runs nothing while it builds (no
   * limit is lost there), unless the user chose otherwise.
   */
  private async chooseBuilder(dockerfile: string): Promise<BuilderChoice> {
    const mode = this.options.builder ?? "auto";
    const feature = buildKitFeature(dockerfile);
    if (!this.buildKit && this.options.engineName === "Podman") return { builder: this.classic, note: null };
    // A cache mount is only a cache: without it the classic builder builds the Dockerfile and
    // holds every RUN step to the memory and CPU limits, which this engine's BuildKit does not.
    const stripped = feature && mode !== "buildkit" ? withoutCacheMounts(dockerfile) : null;
    if (stripped !== null) {
      return {
        builder: this.classic,
        dockerfile: stripped,
        note: `[azlon: built with the classic builder, which holds RUN steps to the memory and CPU limits: the RUN --mount=type=cache options were left out (a cache only${this.buildKit ? "; --builder buildkit keeps them, without those limits" : ""})]`,
      };
    }
    if (mode === "classic" || !this.buildKit) {
      const why = mode === "classic" ? "--builder classic" : "this engine has no BuildKit";
      return {
        builder: this.classic,
        note: feature ? `[azlon: built with the classic builder (${why}): ${feature} needs BuildKit]` : null,
      };
    }
    if (mode === "auto" && !feature) {
      // Nothing runs in a build without RUN steps, so no limit is lost, and BuildKit builds it
      // with a fraction of the engine's work (the classic builder commits a layer per step).
      if (this.buildKit && (await this.runsNothing(dockerfile)))
        return { builder: this.buildKit, note: null };
      return { builder: this.classic, note: null };
    }
    const reason = feature ? `the Dockerfile uses ${feature}` : "--builder buildkit";
    const hereDocument = feature?.startsWith("a here-document") && this.options.hereDocuments === false;
    return {
      builder: this.buildKit,
      note: hereDocument
        ? `[azlon: built with BuildKit (${reason}), but this engine's BuildKit cannot read here-documents (Docker 23 and later can): write files with COPY, or with printf in a plain RUN]`
        : `[azlon: built with BuildKit (${reason}): its RUN steps keep the build time limit but not the memory and CPU limits, which this engine's BuildKit does not apply]`,
    };
  }

  /**
   * Whether building this Dockerfile runs nothing: no RUN step, and every image it builds from is
   * on the engine without ONBUILD triggers (which would run in the build). One not here yet is
   * pulled by the builder, unseen: the classic builder then, as before.
   */
  private async runsNothing(dockerfile: string): Promise<boolean> {
    const bases = runlessBases(dockerfile);
    if (bases === null) return false;
    for (const base of bases) {
      try {
        const image = await this.docker.getImage(base).inspect();
        if ((image.Config?.OnBuild ?? []).length > 0) return false;
      } catch {
        return false;
      }
    }
    return true;
  }

  private async imageIdOf(tag: string): Promise<string | null> {
    try {
      return (await this.docker.getImage(tag).inspect()).Id;
    } catch {
      return null;
    }
  }

  /**
   * Builds the image. In a batch or a server's queue the run first waits for a place among the
   * runs on their way to a running program, and keeps it until its program's container has
   * started (or the build failed): one run through to its program at a time leaves the engine's
   * CPU to it, where four sharing it would each take four times as long. Waiting for a place is
   * not building: the build's time limit starts once it has one.
   */
  async build(contextDir: string, log: LogTarget, signal: AbortSignal): Promise<BuildResult> {
    this.endTurn();
    const choice = await this.chooseBuilder(await readDockerfile(contextDir));
    this.turn = (await this.options.startGate?.acquire(signal)) ?? null;
    try {
      const result = await this.buildNow(contextDir, choice, log, signal);
      if (!result.ok) this.endTurn();
      return result;
    } catch (error) {
      this.endTurn();
      throw error;
    }
  }

  /** Frees this run's place on the way to a running program, if it holds one. */
  private endTurn(): void {
    const end = this.turn;
    this.turn = null;
    end?.();
  }

  private async buildNow(
    contextDir: string,
    { builder, note, dockerfile }: BuilderChoice,
    log: LogTarget,
    signal: AbortSignal,
  ): Promise<BuildResult> {
    // The last round's removal of its predecessor finishes before this build tags anew.
    await this.removing;
    const previous = this.lastImageId ?? (await this.imageIdOf(this.imageTag));
    const spec = {
      contextDir,
      tag: this.imageTag,
      labels: this.imageLabels,
      labelsLast: false,
      log,
      note,
      dockerfile: dockerfile ?? null,
    };
    this.built = true;
    const stray = this.strayImages;
    this.strayImages = true;
    let result = await builder.build(spec, signal);
    // The classic builder looks for its cache among every child of the parent image, and fails
    // when another build's image (another run's, on a shared engine, or a batch's) is removed
    // during that look: the engine's race, not the Dockerfile's fault. Built again, it holds.
    for (let retry = 0; retry < ENGINE_RACE_RETRIES && !result.ok && lostToRace(result); retry++) {
      if (signal.aborted) break;
      result = await builder.build(spec, signal);
    }
    const relabelled = result.ok && !(await this.labelledAsOurs(result.imageId));
    if (relabelled) {
      // The Dockerfile set azlon's own label to something else (after the one azlon puts
      // there): built again with the labels as the last step, which wins.
      const mislabelled = result.imageId ?? (await this.imageIdOf(this.imageTag));
      result = await builder.build({ ...spec, labelsLast: true }, signal);
      const rebuilt = result.ok ? (result.imageId ?? (await this.imageIdOf(this.imageTag))) : null;
      if (mislabelled && mislabelled !== rebuilt) await this.discard(mislabelled);
    }
    const imageId = result.ok ? (result.imageId ?? (await this.imageIdOf(this.imageTag))) : null;
    if (result.ok) this.lastImageId = imageId;
    if (result.ok && builder.kind === "buildkit" && !relabelled) this.strayImages = stray;
    // The previous image goes while the program runs: off the round's critical path, awaited
    // by the next build and by cleanup, so nothing is left behind.
    if (result.ok && previous && previous !== imageId) {
      this.removing = this.removeUntagged(previous, { ownOnly: true });
    }
    return { ...result, imageId };
  }

  /**
   * Removes the image of a build whose Dockerfile relabelled it: nothing would find it by this
   * run's label (not cleanup, not `azlon clean`). Untagged once the build again took the tag;
   * should that build have failed, it still holds the run's tag, which goes with it.
   */
  private async discard(id: string): Promise<void> {
    if ((await this.imageIdOf(this.imageTag)) !== id) return this.removeUntagged(id, { ownOnly: false });
    await this.docker
      .getImage(this.imageTag)
      .remove({ noprune: false })
      .catch(() => {});
  }

  /** Whether an image carries this run's label (a Dockerfile may try to set another). */
  private async labelledAsOurs(imageId: string | null): Promise<boolean> {
    try {
      const image = await this.docker.getImage(imageId ?? this.imageTag).inspect();
      return image.Config?.Labels?.[RUN_LABEL] === this.options.runId;
    } catch (error) {
      throw connectionLost(error);
    }
  }

  async run(log: LogTarget, signal: AbortSignal): Promise<ExecResult> {
    let container: Docker.Container;
    try {
      container = await this.runner.create({ image: this.imageTag });
    } catch (error) {
      this.endTurn();
      throw connectionLost(error);
    }
    try {
      return await this.runner.run(
        container,
        log,
        {
          timeoutMs: this.options.limits.runTimeoutMs,
          subject: "program",
          limit: "the run time limit",
          ...(log.streams ? { streams: log.streams } : {}),
        },
        signal,
        this.outputRedactor,
      );
    } finally {
      this.endTurn();
      await this.runner.remove(container);
    }
  }

  runChecks(request: CheckRequest, signal: AbortSignal): Promise<ChecksReport> {
    return this.checks.runChecks(request, signal);
  }

  runService(
    request: ServiceRequest,
    log: LogTarget,
    signal: AbortSignal,
  ): Promise<{ exec: ExecResult; checks: ChecksReport }> {
    return this.checks.runService(request, log, signal).finally(() => this.endTurn());
  }

  /**
   * Removes an untagged image with its untagged parents: an earlier iteration's image
   * (`ownOnly`: it must carry this run's label), or the last step image of a failed build,
   * which the classic builder leaves unlabelled. Never a tagged image (a base image, the
   * deliverable), nor one other images build on (the engine refuses).
   */
  private async removeUntagged(id: string, { ownOnly }: { ownOnly: boolean }): Promise<void> {
    try {
      const image = await this.docker.getImage(id).inspect();
      if (ownOnly && image.Config?.Labels?.[RUN_LABEL] !== this.options.runId) return;
      if ((image.RepoTags ?? []).some((t) => t !== "<none>:<none>")) return;
      await this.docker.getImage(image.Id).remove({ noprune: false });
    } catch {
      // Gone already, or in use by a container being removed: the final cleanup retries.
      this.strayImages = true;
    }
  }

  async cleanup(): Promise<void> {
    this.endTurn();
    await this.removing;
    const filters = JSON.stringify({ label: [`${RUN_LABEL}=${this.options.runId}`] });
    const warn = (what: string) => (error: unknown) =>
      this.options.warn?.(`could not remove ${what}: ${describeDockerError(error)}`);
    try {
      const containers = await this.docker.listContainers({ all: true, filters });
      for (const info of containers) {
        await this.docker.getContainer(info.Id).remove({ force: true, v: true }).catch(warn("container"));
      }
      // The inputs of checks in a trusted image, should a round have stopped before removing them.
      const volumes = (await this.docker.listVolumes({ filters })).Volumes ?? [];
      for (const volume of volumes) {
        await this.docker.getVolume(volume.Name).remove({ force: true }).catch(warn("volume"));
      }
      const images =
        this.built && !this.strayImages ? [] : await this.docker.listImages({ all: true, filters });
      const keep = await this.imageIdOf(this.imageTag);
      for (const info of images) {
        if (info.Id !== keep) await this.removeUntagged(info.Id, { ownOnly: true });
      }
    } catch (error) {
      this.options.warn?.(`cleanup could not finish: ${describeDockerError(error)}`);
    }
  }
}
