import type { LoopEvent } from "../events.js";
import type { RunState } from "../state.js";
import { checksOf, summaryFor } from "../state.js";
import type { RunStore } from "../store.js";
import type { CheckRequest, ChecksReport, ExecResult, Sandbox } from "../types.js";
import { CHECKS_FILE, RESULT_FILE, type RoundResult } from "./records.js";

/** What the execute and check steps work with: the run, its folder, the sandbox, the journal. */
export interface RoundContext {
  state: RunState;
  store: RunStore;
  sandbox: Sandbox;
  emit: (event: LoopEvent) => void;
  save: () => void;
}

/**
 * The steps that build and run a round: execute (build, run, and for a service its checks;
 * or, when nothing changed, the last round's result reused) and check (each check in a fresh
 * container). Each records what it did in the run folder and names the next step.
 */
export function roundSteps({ state, store, sandbox, emit, save }: RoundContext) {
  const options = state.options;
  const checks = checksOf(options);
  const service = options.service ?? null;
  // Checks in a trusted image read the program's stdout and stderr apart, as files.
  const streams = (n: number) =>
    checks.image ? { stdout: store.logPath(n, "stdout.log"), stderr: store.logPath(n, "stderr.log") } : null;
  const checkRequest = (n: number, exec: ExecResult | null): CheckRequest => {
    const files = streams(n);
    return {
      commands: checks.commands,
      checksDir: checks.dir,
      timeoutMs: checks.timeoutMs,
      log: (i) => ({ path: store.checkLogPath(n, i) }),
      projectDir: store.workspaceDir,
      program: exec ? { exitCode: exec.exitCode, streams: files } : null,
    };
  };
  // What the build put in the checks' way is said once a leg, not every round.
  const warned = new Set<string>();
  const recordChecks = (n: number, report: ChecksReport): void => {
    store.writeIterationJson(n, CHECKS_FILE, report);
    for (const c of report.trust?.commands ?? []) {
      if (c.status !== "added" && c.status !== "changed") continue;
      const key = `${c.word}:${c.path}:${c.status}`;
      if (warned.has(key)) continue;
      warned.add(key);
      emit({
        type: "warning",
        message: `check \`${c.command}\` runs ${c.path}, which the model's build ${c.status === "added" ? "added" : "changed"} (it is not the FROM image's ${report.trust?.base ?? ""}): it may report anything; --check-image runs checks in a trusted image`,
      });
    }
    summaryFor(state, n).checks = {
      passed: report.results.filter((r) => r.passed).length,
      total: checks.commands.length,
      serviceReady: report.service ? report.service.ready : null,
    };
    emit({
      type: "checks.finished",
      iteration: n,
      service: report.service,
      results: report.results.map(({ output: _output, ...r }) => r),
    });
  };

  // What besides the workspace decides a round's result: a resume with other limits reruns.
  const buildKey = async (): Promise<string> =>
    JSON.stringify({
      limits: options.limits,
      maxOutputBytes: options.maxOutputBytes,
      maxLogBytes: options.maxLogBytes,
      checks: { ...checks, files: checks.dir ? await store.hashDir(checks.dir) : null },
      service,
    });
  /**
   * The round whose result this one can reuse: the last one that built, when it built exactly
   * this workspace under the same limits and its records are complete. Only the last: an image
   * built after it carries the run's tag now.
   */
  const reusable = (n: number, hash: string): number | null => {
    const last = state.iterations.filter((i) => i.iteration < n && i.build).at(-1);
    if (!last || last.workspaceHash !== hash) return null;
    const result = store.readIterationJson<RoundResult>(last.iteration, RESULT_FILE);
    // A failed build is tried again: "no changes" after one means "retry" (a network hiccup
    // in a RUN step), and the builder's cache keeps the retry cheap.
    if (!result?.build.ok) return null;
    const ranChecks = checks.commands.length > 0 && (service || result.exec);
    if (ranChecks && !store.readIterationJson<ChecksReport>(last.iteration, CHECKS_FILE)) return null;
    return last.iteration;
  };
  /** Round n takes round `from`'s result: its files are copied, so every round's folder is whole. */
  const reuseRound = (from: number, n: number): void => {
    const source = summaryFor(state, from);
    const result = store.readIterationJson<RoundResult>(from, RESULT_FILE) as RoundResult;
    const report = checks.commands.length ? store.readIterationJson<ChecksReport>(from, CHECKS_FILE) : null;
    store.copyLogs(from, n);
    store.writeIterationJson(n, RESULT_FILE, result);
    const summary = summaryFor(state, n);
    summary.reusedFrom = source.reusedFrom ?? from;
    if (source.build) summary.build = { ...source.build };
    summary.exec = source.exec ? { ...source.exec } : null;
    emit({ type: "execute.reused", iteration: n, from: summary.reusedFrom });
    if (report) {
      store.writeIterationJson(n, CHECKS_FILE, report);
      if (source.checks) summary.checks = { ...source.checks };
    }
    state.progress = { iteration: n, step: "validate" };
    save();
  };

  return {
    async execute(n: number, inner: AbortSignal): Promise<void> {
      const hash = await store.workspaceHash(await buildKey());
      const from = reusable(n, hash);
      summaryFor(state, n).workspaceHash = hash;
      if (from !== null) {
        reuseRound(from, n);
        return;
      }
      emit({ type: "phase", phase: "build", iteration: n });
      const build = await sandbox.build(store.workspaceDir, { path: store.logPath(n, "build.log") }, inner);
      const summary = summaryFor(state, n);
      summary.build = { ok: build.ok, timedOut: build.timedOut, durationMs: build.durationMs };
      if (!build.ok) summary.build.cause = build.cause;
      if (build.ok) state.image = sandbox.imageTag;
      emit({
        type: "build.finished",
        iteration: n,
        ok: build.ok,
        timedOut: build.timedOut,
        durationMs: build.durationMs,
        image: build.ok ? sandbox.imageTag : null,
        cause: build.cause,
      });
      let exec: ExecResult | null = null;
      let next: "check" | "validate" = "validate";
      if (build.ok) {
        emit({ type: "phase", phase: "run", iteration: n });
        const files = streams(n);
        const log = { path: store.logPath(n, "output.log"), ...(files ? { streams: files } : {}) };
        if (service) {
          // A service is checked while it runs: its checks finish inside this step.
          const served = await sandbox.runService({ ...service, checks: checkRequest(n, null) }, log, inner);
          exec = served.exec;
          recordChecks(n, served.checks);
        } else {
          exec = await sandbox.run(log, inner);
          if (checks.commands.length) next = "check";
        }
        const { output, ...rest } = exec;
        summary.exec = { ...rest, outputBytes: output.totalBytes, truncated: output.truncated };
        emit({ type: "exec.finished", iteration: n, ...summary.exec });
      } else {
        summary.exec = null;
      }
      store.writeIterationJson(n, RESULT_FILE, { build, exec } satisfies RoundResult);
      state.progress = { iteration: n, step: next };
      save();
    },

    async check(n: number, inner: AbortSignal): Promise<void> {
      emit({ type: "phase", phase: "check", iteration: n });
      const result = store.readIterationJson<RoundResult>(n, RESULT_FILE);
      recordChecks(n, await sandbox.runChecks(checkRequest(n, result?.exec ?? null), inner));
      state.progress = { iteration: n, step: "validate" };
      save();
    },
  };
}
