import type {
  BuildResult,
  ExecResult,
  FileEntry,
  GenerateRequest,
  JudgeRequest,
  Limits,
} from "../core/types.js";
import { nameList } from "../util/echo.js";
import { formatBytes, formatDuration } from "../util/format.js";
import { DOCKERFILE } from "../workspace/paths.js";
import { describeCheckResults, describeChecks } from "./checks.js";
import { dropEmptyBlocks, render } from "./render.js";
import type { Templates } from "./templates.js";

/** Facts about the runtime that every prompt states, so the model doesn't need what it won't get. */
export interface PromptContext {
  limits: Limits;
  baseImage: string | null;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export function describeLimits(limits: Limits): string {
  return [
    `- memory: ${formatBytes(limits.memoryBytes)} (no swap); going over it kills the program`,
    `- CPUs: ${limits.cpus}`,
    `- processes and threads: at most ${limits.pids}`,
    limits.network === "none"
      ? "- network while the program runs: none (no internet, no DNS); the build itself has network, so install dependencies in the Dockerfile"
      : "- network while the program runs: yes (bridge)",
    `- the program is stopped after ${formatDuration(limits.runTimeoutMs)}; the build after ${formatDuration(limits.buildTimeoutMs)}`,
    "- no files, sockets or secrets from the host are mounted; all capabilities are dropped",
  ].join("\n");
}

function describeBaseImage(baseImage: string | null): string {
  return baseImage
    ? `use \`FROM ${baseImage}\` (it is available locally; other images may not be pullable)`
    : "choose a small official image that fits the language (for example python:3.12-slim)";
}

/** The most of the project's files one prompt carries; the rest are named, not shown. */
export const MAX_PROMPT_FILE_BYTES = 256 * 1024;

/** Files left out of a prompt that are named; a project the model grew to thousands is counted. */
const LEFT_OUT_NAMES = 50;

export function formatFiles(files: readonly FileEntry[], budget = MAX_PROMPT_FILE_BYTES): string {
  return formatFilesWithin(files, budget, budget).text;
}

/** Files as blocks within `budget` bytes; `limit` is the prompt's whole budget, as the note names it. */
function formatFilesWithin(
  files: readonly FileEntry[],
  budget: number,
  limit: number,
): { text: string; used: number } {
  if (!files.length) return { text: "(none)", used: 0 };
  const shown: string[] = [];
  const left: string[] = [];
  let used = 0;
  for (const f of files) {
    const block = `<file path="${f.path}">\n${f.content}${f.content.endsWith("\n") ? "" : "\n"}</file>`;
    const size = Buffer.byteLength(block);
    if (used + size > budget) {
      left.push(`${f.path} (${Buffer.byteLength(f.content)} bytes)`);
      continue;
    }
    used += size;
    shown.push(block);
  }
  if (left.length) {
    shown.push(
      `(Left out to keep this prompt within ${Math.round(limit / 1024)} KiB; they are in the project unchanged: ${nameList(left, LEFT_OUT_NAMES)}. Replace one only by sending it whole.)`,
    );
  }
  return { text: shown.join("\n"), used };
}

/**
 * The project split for the endpoint's prefix cache: the files the last answer did not touch
 * come first, in an order that stays the same from round to round (oldest change first, then
 * largest first, then by path), and the ones it changed come after. Largest first because a
 * change cuts the cached prefix at that file: the bytes before it are the ones kept.
 * The Dockerfile is a file here, in the group it belongs to. Changed files are shown first
 * when the budget is short: they are what this round is about.
 */
export function splitFiles(
  req: Pick<JudgeRequest, "dockerfile" | "files" | "iteration" | "changedIn">,
  budget = MAX_PROMPT_FILE_BYTES,
): { unchanged: string; changed: string } {
  const changedIn = req.changedIn ?? {};
  const all: FileEntry[] = [
    ...(req.dockerfile.trim() === "" ? [] : [{ path: DOCKERFILE, content: req.dockerfile }]),
    ...req.files,
  ];
  // Round 1 has no earlier round: everything is "unchanged", so round 2 can reuse it.
  const round = (path: string) => changedIn[path] ?? 0;
  const isChanged = (f: FileEntry) => req.iteration > 1 && round(f.path) >= req.iteration;
  const changed = all.filter(isChanged).sort((a, b) => byPath(a.path, b.path));
  const unchanged = all
    .filter((f) => !isChanged(f))
    .sort(
      (a, b) =>
        round(a.path) - round(b.path) ||
        (a.path === DOCKERFILE ? -1 : 0) - (b.path === DOCKERFILE ? -1 : 0) ||
        Buffer.byteLength(b.content) - Buffer.byteLength(a.content) ||
        byPath(a.path, b.path),
    );
  const shownChanged = formatFilesWithin(changed, budget, budget);
  const shownUnchanged = formatFilesWithin(unchanged, budget - shownChanged.used, budget);
  const noDockerfile = req.dockerfile.trim() === "" ? "(no Dockerfile)\n" : "";
  return {
    unchanged: noDockerfile + shownUnchanged.text,
    changed:
      req.iteration > 1 ? shownChanged.text : "(none: this is the first round; every file is shown above)",
  };
}

function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function describeResult(build: BuildResult, exec: ExecResult | null): string {
  if (!build.ok) {
    return build.timedOut
      ? `The image build TIMED OUT after ${formatDuration(build.durationMs)} and was stopped; nothing ran. The output below is the build log up to that point.`
      : "The image build FAILED; nothing ran. The output below is the build log.";
  }
  if (!exec) return "The image was built but nothing ran.";
  const lines = [`The image was built and the program ran for ${formatDuration(exec.durationMs)}.`];
  if (exec.timedOut) {
    lines.push(
      "It TIMED OUT: it was still running at the time limit and was killed. It must finish on its own.",
    );
  } else if (exec.oomKilled) {
    lines.push("It ran OUT OF MEMORY: the engine killed it at the memory limit.");
  } else if (exec.signal) {
    lines.push(`It was killed by signal ${exec.signal}.`);
  }
  lines.push(`Exit code: ${exec.exitCode ?? "none"}.`);
  return lines.join("\n");
}

/** The text the judge reads as "the output": the build log when the build failed. */
export function judgedOutput(build: BuildResult, exec: ExecResult | null): { text: string; note: string } {
  const bounded = !build.ok || !exec ? build.log : exec.output;
  const what = !build.ok || !exec ? "build log" : "output";
  const note = bounded.truncated
    ? `(The ${what} was ${formatBytes(bounded.totalBytes)}; its middle was cut, as marked below. Head and tail are shown.)\n`
    : "";
  return { text: bounded.text === "" ? "(nothing was printed)" : bounded.text, note };
}

/** Renders a template whose empty sections (such as checks, when there are none) leave no gap. */
function renderBlocks(template: string, values: Record<string, string>, source: string): string {
  return render(dropEmptyBlocks(template, values).replace(/\n{2,}$/, "\n"), values, source);
}

export function generateMessages(t: Templates, ctx: PromptContext, req: GenerateRequest): ChatMessage[] {
  const common = { limits: describeLimits(ctx.limits), baseImage: describeBaseImage(ctx.baseImage) };
  return [
    { role: "system", content: render(t.generateSystem.text, common, t.generateSystem.source) },
    {
      role: "user",
      content: renderBlocks(
        t.generateUser.text,
        { prompt: req.prompt, tests: req.tests, checks: describeChecks(req.checks) },
        t.generateUser.source,
      ),
    },
  ];
}

export function judgeMessages(t: Templates, ctx: PromptContext, req: JudgeRequest): ChatMessage[] {
  const common = { limits: describeLimits(ctx.limits), baseImage: describeBaseImage(ctx.baseImage) };
  const output = judgedOutput(req.build, req.exec);
  const history = req.history.length
    ? req.history.map((h) => `- round ${h.iteration}: ${h.summary}`).join("\n")
    : "(this is the first round)";
  const refused = req.refused.length
    ? req.refused.map((r) => `- ${r.path}: ${r.reason}`).join("\n")
    : "(none)";
  const project = splitFiles(req);
  const values = {
    prompt: req.prompt,
    tests: req.tests,
    iteration: String(req.iteration),
    maxIterations: String(req.maxIterations),
    history,
    refused,
    dockerfile: req.dockerfile.trim() === "" ? "(no Dockerfile)" : req.dockerfile,
    files: formatFiles(req.files),
    unchangedFiles: project.unchanged,
    changedFiles: project.changed,
    result: describeResult(req.build, req.exec),
    output: output.note + output.text,
    checks: describeChecks(req.checks),
    checkResults: describeCheckResults(req.checks, req.checkResults),
  };
  return [
    { role: "system", content: render(t.validateSystem.text, common, t.validateSystem.source) },
    { role: "user", content: renderBlocks(t.validateUser.text, values, t.validateUser.source) },
  ];
}
