import { EventEmitter } from "node:events";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import type { Config } from "../config/schema.js";
import { errorMessage } from "../core/errors.js";
import type { RunState } from "../core/state.js";
import type { Engine, RunHandle } from "../engine/engine.js";
import { limitsReached } from "../engine/limits.js";
import { runOptionsFrom } from "../engine/options.js";
import { resultOf, runReport } from "../engine/result.js";
import {
  createRun,
  openRun,
  type PreparedRun,
  type ResumeOverrides,
  readRun,
  type Task,
} from "../engine/runs.js";
import { TEMPLATE_FILES, type TemplateName } from "../prompts/templates.js";
import { processAlive } from "../util/liveness.js";
import { RunFolder, SERVE_FILE, writeFileAtomic } from "../workspace/run-folder.js";
import { listRunFolders, readRunEntry, runIsLive } from "../workspace/run-list.js";
import type { PromptStore } from "./prompts.js";
import type { ServedStatus } from "./views.js";

/**
 * serve.json in a run folder: the mark of a run the server owns, and whether it waits in the
 * queue. With it on disk, a server started again on the same folder carries on by itself.
 */
export { SERVE_FILE };

interface ServeMark {
  queued: boolean;
  /** Limits to raise when the queued run starts (a queued resume). */
  overrides?: ResumeOverrides;
  /** Stopped by the server's own shutdown: carried on when it starts again. */
  resumeOnStart?: boolean;
}

function readMark(dir: string): ServeMark | null {
  try {
    return JSON.parse(readFileSync(join(dir, SERVE_FILE), "utf8")) as ServeMark;
  } catch {
    return null;
  }
}

function writeMark(dir: string, mark: ServeMark): void {
  writeFileAtomic(join(dir, SERVE_FILE), `${JSON.stringify(mark)}\n`);
}

export interface ManagerOptions {
  engine: Engine;
  outDir: string;
  cwd: string;
  concurrency: number;
  /** Runs that may wait for a free slot; a request beyond them is refused (429). */
  maxQueue: number;
  /** The server's resolved config; a request's options are laid over it. */
  config: Config;
  prompts: PromptStore;
  log: (line: string) => void;
}

/** A run that cannot be started or resumed as asked (the route answers 409). */
export class ConflictError extends Error {}

/** The queue holds --max-queue runs already (the route answers 429, Retry-After this many seconds). */
export class QueueFullError extends Error {
  readonly retryAfter = 60;
}

/** What this server's runs are recorded as driven by (in their lock, for a second process to read). */
const DRIVER = "azlon serve";

/**
 * Whether another process drives a run. This server's own runs are in its maps; a record that
 * names this process's number and is not there was a previous server's that had the number
 * (pid 1 in a container always does, and an azlon from before start times recorded none).
 */
const otherProcessAlive = (pid: number, start?: string | null) =>
  pid !== process.pid && processAlive(pid, start);

/** The server's runs: a queue beyond --concurrency, the runs in flight, and their ends. */
export class RunManager {
  private readonly active = new Map<string, { handle: RunHandle; phase: string | null }>();
  private readonly queue: string[] = [];
  private readonly finished = new EventEmitter();
  private stopping = false;

  constructor(private readonly o: ManagerOptions) {
    this.finished.setMaxListeners(0);
  }

  get redactor() {
    return this.o.engine.redactor;
  }

  /** The ids of every run folder under --out (the server's own and any other azlon's). */
  ids(): string[] {
    return listRunFolders(this.o.outDir).map((entry) => basename(entry.dir));
  }

  dirOf(id: string): string | null {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) || id.includes("..")) return null;
    const dir = join(this.o.outDir, id);
    return RunFolder.exists(dir) ? dir : null;
  }

  /** Makes a run folder now (so the run survives a restart while queued) and queues it. */
  create(task: Task, layer: Partial<Config>): { id: string; status: ServedStatus } {
    this.checkRoom();
    const config = { ...this.o.config, ...layer } as Config;
    const options = runOptionsFrom(config, this.o.cwd, this.o.outDir);
    const prepared = createRun(task, options, this.o.engine.redactor, { by: DRIVER });
    try {
      this.keepPrompts(prepared);
      writeMark(prepared.folder.dir, { queued: true });
    } finally {
      // A queued run is driven by nobody yet: its lock is taken again when it starts.
      prepared.folder.close();
    }
    this.enqueue(prepared.state.runId);
    return { id: prepared.state.runId, status: this.statusOf(prepared.state.runId) };
  }

  /** Each run keeps a copy of the templates it started with: later edits apply to new runs only. */
  private keepPrompts({ state, folder }: PreparedRun): void {
    const paths = this.o.prompts.paths();
    const names = Object.keys(paths) as TemplateName[];
    if (!names.length) return;
    const dir = join(folder.dir, "prompts");
    mkdirSync(dir, { recursive: true });
    for (const name of names) {
      const source = paths[name];
      if (!source) continue;
      const copy = join(dir, TEMPLATE_FILES[name]);
      copyFileSync(source, copy);
      state.options.prompts[name] = copy;
    }
    folder.saveState(state);
  }

  resume(id: string, dir: string, overrides: ResumeOverrides): ServedStatus {
    if (this.active.has(id)) throw new ConflictError(`run ${id} is running`);
    if (this.queue.includes(id)) throw new ConflictError(`run ${id} is queued`);
    this.checkRoom();
    // Refuses a passed run, and one another process drives (LockedError, naming it).
    const prepared = openRun(dir, this.o.engine.redactor, overrides, {
      baseUrls: [this.o.config.baseUrl],
      by: DRIVER,
    });
    prepared.folder.close();
    const reached = limitsReached(prepared.state);
    if (reached.length) {
      // Resumed as it is, it would stop again at once: say which option to raise.
      const raise = reached.map(
        (l) => `options.${l.flag.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}`,
      );
      throw new ConflictError(
        `run ${id} stopped at ${reached.map((l) => l.what).join(" and ")}; raise ${raise.join(" and ")} to resume it`,
      );
    }
    writeMark(dir, { queued: true, overrides });
    this.enqueue(id);
    return this.statusOf(id);
  }

  /**
   * Refuses a run that would wait behind a full queue, before anything of it is written: a
   * script (or a page) posting in a loop would otherwise fill the disk with queued run folders.
   */
  private checkRoom(): void {
    const wouldWait = this.stopping || this.active.size >= this.o.concurrency;
    if (wouldWait && this.queue.length >= this.o.maxQueue) {
      throw new QueueFullError(
        `the queue is full: ${this.queue.length} run(s) wait behind ${this.active.size} running; ` +
          "try again later, or start azlon serve with a larger --max-queue",
      );
    }
  }

  cancel(id: string, dir: string): ServedStatus {
    const running = this.active.get(id);
    if (running) {
      this.markOf(dir, { queued: false, resumeOnStart: false });
      running.handle.cancel("interrupted");
      return "running";
    }
    const at = this.queue.indexOf(id);
    if (at < 0) throw new ConflictError(`run ${id} is neither queued nor running`);
    this.queue.splice(at, 1);
    writeMark(dir, { queued: false });
    const { state, folder } = readRun(dir, this.o.engine.redactor);
    if (state.legs.length === 0) {
      // Never started: it ends here, as a run interrupted before its first step.
      Object.assign(state, {
        status: "interrupted",
        stopReason: "interrupted",
        reason: "cancelled before it started",
        updatedAt: new Date().toISOString(),
      } satisfies Partial<RunState>);
      folder.saveState(state);
    }
    this.finished.emit("done", id);
    return this.statusOf(id);
  }

  private markOf(dir: string, change: Partial<ServeMark>): void {
    writeMark(dir, { ...(readMark(dir) ?? { queued: false }), ...change });
  }

  /** queued / running (here, or live in another process) / run.json's status. */
  statusOf(id: string): ServedStatus {
    if (this.active.has(id)) return "running";
    if (this.queue.includes(id)) return "queued";
    const dir = join(this.o.outDir, id);
    let state: RunState;
    try {
      state = readRun(dir, this.o.engine.redactor).state;
    } catch {
      return "error";
    }
    // Ours would be in the maps above; another process's is live only while it drives the run.
    if (runIsLive(readRunEntry(dir, id), hostname(), otherProcessAlive)) return "running";
    return state.status === "running" ? "interrupted" : state.status;
  }

  phaseOf(id: string): string | null {
    return this.active.get(id)?.phase ?? null;
  }

  isLive(id: string): boolean {
    const status = this.statusOf(id);
    return status === "running" || status === "queued";
  }

  /** The run's final status, once it is neither queued nor running. */
  whenDone(id: string): Promise<ServedStatus> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.isLive(id)) return;
        this.finished.off("done", onDone);
        resolve(this.statusOf(id));
      };
      const onDone = (doneId: string) => {
        if (doneId === id) check();
      };
      this.finished.on("done", onDone);
      check();
    });
  }

  resultOf(id: string, dir: string) {
    const { state, folder } = readRun(dir, this.o.engine.redactor);
    if (this.isLive(id) || state.status === "running") return null;
    return this.o.engine.redactor.redactDeep(resultOf(runReport(folder, state, null)));
  }

  /**
   * Picks up what a previous server on this folder left: runs it was running when it died
   * (their process is gone), runs it stopped on shutdown, then its queue, oldest first.
   */
  recover(): void {
    const carried: string[] = [];
    const queued: string[] = [];
    for (const entry of listRunFolders(this.o.outDir)) {
      const mark = readMark(entry.dir);
      if (!mark) continue;
      const id = basename(entry.dir);
      if (mark.queued) queued.push(id);
      else if (entry.status === "running" && !runIsLive(entry, hostname(), otherProcessAlive))
        carried.push(id);
      else if (entry.status === "interrupted" && mark.resumeOnStart) carried.push(id);
    }
    for (const id of [...carried, ...queued]) {
      if (!this.queue.includes(id)) this.queue.push(id);
    }
    if (carried.length || queued.length)
      this.o.log(`carrying on ${carried.length} interrupted and ${queued.length} queued run(s)`);
    this.pump();
  }

  private enqueue(id: string): void {
    this.queue.push(id);
    this.pump();
  }

  private pump(): void {
    while (!this.stopping && this.active.size < this.o.concurrency) {
      const id = this.queue.shift();
      if (id === undefined) return;
      this.startNow(id);
    }
  }

  private startNow(id: string): void {
    const dir = join(this.o.outDir, id);
    const mark = readMark(dir) ?? { queued: false };
    let handle: RunHandle;
    let prepared: PreparedRun | null = null;
    try {
      // Locked: a run another process drives (an `azlon resume` of it) is left to that process.
      prepared = openRun(dir, this.o.engine.redactor, mark.overrides ?? {}, {
        baseUrls: [this.o.config.baseUrl],
        by: DRIVER,
      });
      prepared.folder.init();
      handle = this.o.engine.start(prepared);
    } catch (error) {
      prepared?.folder.close();
      writeMark(dir, { queued: false });
      this.o.log(`run ${id} could not start: ${this.o.engine.redactor.redactMessage(errorMessage(error))}`);
      this.finished.emit("done", id);
      return;
    }
    writeMark(dir, { queued: false });
    const entry = { handle, phase: null as string | null };
    this.active.set(id, entry);
    handle.on((event) => {
      if (event.type === "phase") entry.phase = event.phase;
    });
    handle.done
      .then((outcome) => {
        for (const w of outcome.warnings) this.o.log(`run ${id}: warning: ${w}`);
      })
      .catch((error) => {
        this.o.log(`run ${id} failed: ${this.o.engine.redactor.redactMessage(errorMessage(error))}`);
      })
      .finally(() => {
        this.active.delete(id);
        this.finished.emit("done", id);
        this.pump();
      });
  }

  /** Stops the runs in flight (marked to carry on when a server starts again); the queue stays on disk. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    const running = [...this.active.entries()];
    for (const [id, { handle }] of running) {
      this.markOf(join(this.o.outDir, id), { resumeOnStart: true });
      handle.cancel("interrupted");
    }
    await Promise.allSettled(running.map(([, { handle }]) => handle.done));
  }
}
