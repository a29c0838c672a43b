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
import { CheckInputs, type InputsSpec } from "./check-inputs.js";
import { toCheck } from "./check-results.js";
import type { CheckRunner } from "./check-runner.js";
import type { ContainerRunner } from "./container.js";
import { connectionLost } from "./docker-errors.js";
import { CHECK_SHELL } from "./exec.js";
import { type BesideResult, createService, serveAndCheck } from "./service.js";

export interface TrustedChecksOptions {
  docker: Docker;
  runner: ContainerRunner;
  /** The user's trusted image the checks run in. */
  checkImage: string;
  /** The image the round built (the service runs in it). */
  image: string;
  labels: Record<string, string>;
  outputRedactor: Redactor;
}

/**
 * Checks in a trusted image (--check-image): nothing of the project's image runs them. Each
 * check is a fresh container of that image with the project, the program's run and the user's
 * checks read-only under /azlon; beside a service, it joins the service's network namespace.
 */
export class TrustedImageChecks implements CheckRunner {
  constructor(private readonly o: TrustedChecksOptions) {}

  private get trust(): CheckTrust {
    return { checkImage: this.o.checkImage, base: null, shell: null, commands: [] };
  }

  private async inputs(spec: InputsSpec): Promise<CheckInputs> {
    try {
      return await CheckInputs.create(this.o.docker, this.o.checkImage, this.o.labels, spec);
    } catch (error) {
      throw connectionLost(error);
    }
  }

  /** One command in a fresh container of the check image; beside a service when `join` names it. */
  private async runOne(
    inputs: CheckInputs,
    command: string,
    log: LogTarget | null,
    timeoutMs: number,
    signal: AbortSignal,
    join?: string,
  ): Promise<BesideResult> {
    const { runner } = this.o;
    let container: Docker.Container;
    try {
      container = await runner.create({
        image: this.o.checkImage,
        entrypoint: [CHECK_SHELL, "-c"],
        cmd: [command],
        timeoutMs,
        mounts: [inputs.mount()],
        ...(join ? { joinNetworkOf: join } : {}),
      });
    } catch (error) {
      throw connectionLost(error);
    }
    try {
      return await runner.run(
        container,
        log,
        { timeoutMs, subject: "check", limit: "the check time limit" },
        signal,
        this.o.outputRedactor,
      );
    } finally {
      await runner.remove(container);
    }
  }

  async runChecks(request: CheckRequest, signal: AbortSignal): Promise<ChecksReport> {
    const inputs = await this.inputs({
      projectDir: request.projectDir,
      checksDir: request.checksDir,
      program: request.program,
    });
    const results: CheckResult[] = [];
    try {
      for (const [index, command] of request.commands.entries()) {
        if (signal.aborted) throw new AbortedError(abortCause(signal));
        const ran = await this.runOne(inputs, command, request.log(index), request.timeoutMs, signal);
        results.push(toCheck(command, ran, request.timeoutMs));
      }
    } finally {
      await inputs.remove();
    }
    return { service: null, results, trust: this.trust };
  }

  /** The service runs in the project's image, without the checks; they and its readiness poll join it. */
  async runService(
    request: ServiceRequest,
    log: LogTarget,
    signal: AbortSignal,
  ): Promise<{ exec: ExecResult; checks: ChecksReport }> {
    const { runner } = this.o;
    const inputs = await this.inputs({
      projectDir: request.checks.projectDir,
      checksDir: request.checks.checksDir,
      program: null,
    });
    try {
      const container = await createService(runner, this.o.image, request);
      const served = await serveAndCheck(
        runner,
        container,
        request,
        log,
        (command, checkLog, timeoutMs, checkSignal) =>
          this.runOne(inputs, command, checkLog, timeoutMs, checkSignal, container.id),
        signal,
      );
      return { exec: served.exec, checks: { ...served.checks, trust: this.trust } };
    } finally {
      await inputs.remove();
    }
  }
}
