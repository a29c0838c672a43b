import type Docker from "dockerode";
import { AbortedError, abortCause } from "../core/errors.js";
import type {
  CheckRequest,
  CheckResult,
  ChecksReport,
  CheckTrust,
  ExecResult,
  LogTarget,
  ServiceRequest,
} from "../core/types.js";
import type { Redactor } from "../util/secrets.js";
import { readDockerfile } from "./build-context.js";
import { checksVolume, copyChecks } from "./check-inputs.js";
import { notRun, toCheck } from "./check-results.js";
import type { CheckRunner } from "./check-runner.js";
import { type BaseCache, checkTrust, untrustedShell } from "./check-trust.js";
import type { ContainerRunner } from "./container.js";
import { connectionLost, describeDockerError, engineAnswered } from "./docker-errors.js";
import { CHECK_SHELL, execIn } from "./exec.js";
import { createService, serveAndCheck } from "./service.js";

export interface OwnImageChecksOptions {
  docker: Docker;
  runner: ContainerRunner;
  /** The image the round built. */
  image: string;
  /** On the containers azlon makes to compare files. */
  labels: Record<string, string>;
  /** Masks secrets, and the lines of held-out checks, in what the checks print. */
  outputRedactor: Redactor;
}

/** Why the user's checks could not be put in place: the model's image is in the way. */
function placementProblem(error: unknown): string {
  return `the checks could not be put at /azlon/checks (${describeDockerError(error)}): the image must leave /azlon/checks free (no file there)`;
}

/**
 * Checks in the project's own image: each in a fresh container, run with /bin/sh by its path,
 * after that shell (and each command's first word) is compared with the FROM image's. A shell
 * the build replaced runs no check: the round fails, saying so.
 */
export class OwnImageChecks implements CheckRunner {
  /** The FROM image's files, kept for the run: the base does not change from round to round. */
  private readonly baseCache: BaseCache = new Map();

  constructor(private readonly o: OwnImageChecksOptions) {}

  private async trust(request: CheckRequest): Promise<CheckTrust> {
    try {
      const dockerfile = await readDockerfile(request.projectDir);
      return await checkTrust(
        this.o.docker,
        this.o.image,
        dockerfile,
        request.commands,
        this.o.labels,
        this.baseCache,
      );
    } catch (error) {
      throw connectionLost(error);
    }
  }

  async runChecks(request: CheckRequest, signal: AbortSignal): Promise<ChecksReport> {
    const trust = await this.trust(request);
    const refused = untrustedShell(trust);
    if (refused) return { service: null, results: notRun(request.commands, refused), trust };
    const results: CheckResult[] = [];
    for (const [index, command] of request.commands.entries()) {
      if (signal.aborted) throw new AbortedError(abortCause(signal));
      const ran = await this.runOne(
        request.checksDir,
        command,
        request.log(index),
        request.timeoutMs,
        signal,
        null,
      );
      if (typeof ran === "string") results.push(...notRun([command], ran));
      else results.push(toCheck(command, ran, request.timeoutMs));
    }
    return { service: null, results, trust };
  }

  /**
   * One check in a fresh container of the project's image (beside a service: in its network,
   * so localhost reaches it), never inside a container the model's program has run in: what
   * the program changes at run time (a shell, a tool on PATH) cannot decide a check. A string
   * is why the check could not be put in place.
   */
  private async runOne(
    checksDir: string | null,
    command: string,
    log: LogTarget | null,
    timeoutMs: number,
    signal: AbortSignal,
    joinNetworkOf: string | null,
  ): Promise<ExecResult | string> {
    const { runner } = this.o;
    let container: Docker.Container;
    try {
      container = await runner.create({
        image: this.o.image,
        entrypoint: [CHECK_SHELL, "-c"],
        cmd: [command],
        timeoutMs,
        mounts: checksDir !== null ? [checksVolume(runner.options.labels)] : [],
        ...(joinNetworkOf ? { joinNetworkOf } : {}),
      });
    } catch (error) {
      throw connectionLost(error);
    }
    try {
      if (checksDir) {
        try {
          await copyChecks(container, checksDir);
        } catch (error) {
          if (!engineAnswered(error)) throw error;
          return placementProblem(error);
        }
      }
      return await runner.run(
        container,
        log,
        { timeoutMs, subject: "check", limit: "the check time limit" },
        signal,
        this.o.outputRedactor,
      );
    } catch (error) {
      if (error instanceof AbortedError) throw error;
      throw connectionLost(error);
    } finally {
      await runner.remove(container);
    }
  }

  /**
   * The service runs in its own container; its readiness is polled there, and each check runs
   * beside it in a fresh container of the same image that shares its network.
   */
  async runService(
    request: ServiceRequest,
    log: LogTarget,
    signal: AbortSignal,
  ): Promise<{ exec: ExecResult; checks: ChecksReport }> {
    const { runner } = this.o;
    const trust = await this.trust(request.checks);
    const refused = untrustedShell(trust);
    const container = await createService(runner, this.o.image, request);
    const served = await serveAndCheck(
      runner,
      container,
      request,
      log,
      (command, checkLog, timeoutMs, checkSignal) =>
        this.runOne(request.checks.checksDir, command, checkLog, timeoutMs, checkSignal, container.id),
      signal,
      {
        refused,
        redactor: this.o.outputRedactor,
        // Readiness is only a gate (a forged one starts the checks early): polled in the service itself.
        ready: (command, readyLog, timeoutMs, readySignal) =>
          execIn(runner, container, command, readyLog, timeoutMs, readySignal, this.o.outputRedactor),
      },
    );
    return { exec: served.exec, checks: { ...served.checks, trust } };
  }
}
