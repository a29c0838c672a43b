import { freshLayout, MAX_PROMPT_FILE_BYTES } from "../core/steps/prompt-layout.js";
import type {
  CheckView,
  FileEntry,
  GenerateRequest,
  JudgeRequest,
  Limits,
  PromptLayout,
  RuntimeFacts,
} from "../core/types.js";
import { nameList } from "../util/echo.js";
import { DOCKERFILE } from "../workspace/paths.js";
import { describeCheckResults, describeChecks } from "./checks.js";
import { blocksWithin, fileBlock } from "./file-blocks.js";
import { describeResult, judgedOutput } from "./output.js";
import { describeMap, describeProject, describeReads, projectRules } from "./project.js";
import { dropEmptyBlocks, placeholders, render } from "./render.js";
import { describeBaseImage, describeEntrypoint, describeLimits, modeOf } from "./runtime.js";
import type { Templates } from "./templates.js";

export { describeLimits, describeResult, judgedOutput };

/** Facts about the runtime that every prompt states, so the model doesn't need what it won't get. */
export interface PromptContext {
  limits: Limits;
  baseImage: string | null;
  /** What azlon learnt about the base image (its OS, language, package tools), if anything. */
  runtime?: RuntimeFacts | null;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export { MAX_PROMPT_FILE_BYTES };

/** Files left out of a prompt that are named; a project the model grew to thousands is counted. */
const LEFT_OUT_NAMES = 50;

export function formatFiles(files: readonly FileEntry[], budget = MAX_PROMPT_FILE_BYTES): string {
  return formatFilesWithin(files, budget, budget).text;
}

/**
 * Files as blocks, in their order, within `budget` bytes; `limit` is the prompt's whole budget,
 * as the note names it. When they don't all fit, the ones `first` picks get the budget first.
 */
function formatFilesWithin(
  files: readonly FileEntry[],
  budget: number,
  limit: number,
  first: (f: FileEntry) => boolean = () => false,
): { text: string; used: number } {
  if (!files.length) return { text: "(none)", used: 0 };
  const picked = blocksWithin(files, budget, first);
  const shown = picked.shown;
  const left = picked.left.map((f) => `${f.path} (${Buffer.byteLength(f.content)} bytes)`);
  if (left.length) {
    shown.push(
      `(Left out to keep this prompt within ${Math.round(limit / 1024)} KiB; they are in the project unchanged: ${nameList(left, LEFT_OUT_NAMES)}. Replace one only by sending it whole.)`,
    );
  }
  return { text: shown.join("\n"), used: picked.used };
}

/**
 * The project as a layout shows it: the base round's files, then each later round's written
 * files and deleted paths. Text already shown is never changed, so the next round's request
 * repeats this one up to its new round. A base too large for the prompt (a layout starts
 * afresh then, with no later rounds) shows `changedNow` first.
 */
export function formatLayout(
  layout: PromptLayout,
  changedNow: ReadonlySet<string> = new Set(),
  budget = MAX_PROMPT_FILE_BYTES,
): string {
  const noDockerfile = layout.base.some((f) => f.path === DOCKERFILE) ? "" : "(no Dockerfile)\n";
  const parts = [
    noDockerfile + formatFilesWithin(layout.base, budget, budget, (f) => changedNow.has(f.path)).text,
  ];
  if (layout.later.length) {
    parts.push(
      `\nWritten or deleted after round ${layout.baseRound}, round by round. The last copy of a file is the file as it is now; a copy above it no longer holds.`,
    );
  }
  for (const r of layout.later) {
    parts.push(`\n## Round ${r.round}`);
    if (r.written.length) parts.push(r.written.map(fileBlock).join("\n"));
    if (r.deleted.length) parts.push(`Deleted: ${nameList(r.deleted, LEFT_OUT_NAMES)}`);
  }
  return parts.join("\n");
}

/**
 * What the last answer changed, for the round's own part of the request: the paths it wrote,
 * where their current copies are when the layout shows them in a round of their own, and the
 * paths it deleted.
 */
function describeChanged(req: JudgeRequest, layout: PromptLayout, written: readonly string[]): string {
  if (req.iteration <= 1) return "(none: this is the first round)";
  const parts: string[] = [];
  if (written.length) {
    const where =
      layout.later.at(-1)?.round === req.iteration ? ` (shown under "## Round ${req.iteration}" above)` : "";
    parts.push(nameList(written, LEFT_OUT_NAMES) + where);
  }
  const deleted = req.deleted ?? [];
  if (deleted.length) parts.push(`deleted ${nameList(deleted, LEFT_OUT_NAMES)}`);
  return parts.length ? parts.join("; ") : "(none)";
}

/** The paths the last answer wrote (the Dockerfile as "Dockerfile", first), in a stable order. */
export function changedNow(req: Pick<JudgeRequest, "iteration" | "changedIn">): string[] {
  if (req.iteration <= 1) return [];
  return Object.entries(req.changedIn ?? {})
    .filter(([, round]) => round >= req.iteration)
    .map(([path]) => path)
    .sort((a, b) => (a === DOCKERFILE ? -1 : b === DOCKERFILE ? 1 : byPath(a, b)));
}

/**
 * The project in two groups, each file once, for templates that use `{{unchangedFiles}}` and
 * `{{changedFiles}}`: the files the last answer did not touch, in the order a fresh layout
 * gives them (oldest change first, then largest first), and the ones it changed. Changed
 * files are shown first when the budget is short: they are what this round is about.
 */
export function splitFiles(
  req: Pick<JudgeRequest, "dockerfile" | "files" | "iteration" | "changedIn">,
  budget = MAX_PROMPT_FILE_BYTES,
): { unchanged: string; changed: string } {
  const now = new Set(changedNow(req));
  const { base } = freshLayout(req);
  const changed = base.filter((f) => now.has(f.path)).sort((a, b) => byPath(a.path, b.path));
  const unchanged = base.filter((f) => !now.has(f.path));
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

/** Renders a template whose empty sections (such as checks, when there are none) leave no gap. */
function renderBlocks(template: string, values: Record<string, string>, source: string): string {
  return render(dropEmptyBlocks(template, values).replace(/\n{2,}$/, "\n"), values, source);
}

/**
 * The values of a system template: the same every round of a run (its mode, limits and base
 * image do not change), so endpoints can cache the system message.
 */
function systemValues(ctx: PromptContext, checks: CheckView | null): Record<string, string> {
  const mode = modeOf(checks);
  return {
    limits: describeLimits(ctx.limits, mode),
    baseImage: describeBaseImage(ctx.baseImage, ctx.runtime ?? null),
    entrypoint: describeEntrypoint(mode),
  };
}

/** Said on the last round only: what its answer can still do. */
function lastRoundNote(req: JudgeRequest): string {
  return req.iteration >= req.maxIterations
    ? "This is the last round: if it does not pass, the run stops here, and a fix you send now is applied only if the user resumes the run with more rounds."
    : "";
}

export function generateMessages(t: Templates, ctx: PromptContext, req: GenerateRequest): ChatMessage[] {
  const common = systemValues(ctx, req.checks);
  const project = req.project ? { hasDockerfile: req.project.dockerfile !== null } : null;
  const rules = projectRules(project, describeEntrypoint(modeOf(req.checks)));
  return [
    {
      role: "system",
      content: render(t.generateSystem.text, { ...common, projectRules: rules }, t.generateSystem.source),
    },
    {
      role: "user",
      content: renderBlocks(
        t.generateUser.text,
        {
          prompt: req.prompt,
          tests: req.tests,
          checks: describeChecks(req.checks),
          project: describeProject(req.project),
          reads: describeReads(req.reads),
        },
        t.generateUser.source,
      ),
    },
  ];
}

export function judgeMessages(t: Templates, ctx: PromptContext, req: JudgeRequest): ChatMessage[] {
  const common = systemValues(ctx, req.checks);
  const history = req.history.length
    ? req.history.map((h) => `- round ${h.iteration}: ${h.summary}`).join("\n")
    : "(this is the first round)";
  const refused = req.refused.length
    ? req.refused.map((r) => `- ${r.path}: ${r.reason}`).join("\n")
    : "(none)";
  // The project is shown in up to three ways; only those the template uses are made.
  const used = new Set(placeholders(t.validateUser.text));
  const uses = (name: string) => used.has(name);
  const project = uses("unchangedFiles") || uses("changedFiles") ? splitFiles(req) : null;
  const layout = req.layout ?? freshLayout(req);
  const changed = changedNow(req);
  const values = {
    prompt: req.prompt,
    tests: req.tests,
    iteration: String(req.iteration),
    maxIterations: String(req.maxIterations),
    lastRound: lastRoundNote(req),
    history,
    refused,
    dockerfile: req.dockerfile.trim() === "" ? "(no Dockerfile)" : req.dockerfile,
    files: uses("files") ? formatFiles(req.files) : "",
    unchangedFiles: project?.unchanged ?? "",
    changedFiles: project?.changed ?? "",
    projectFiles: uses("projectFiles") ? formatLayout(layout, new Set(changed)) : "",
    changedNames: describeChanged(req, layout, changed),
    result:
      (req.reusedFrom === undefined
        ? ""
        : `Nothing changed since round ${req.reusedFrom}, so its result is shown again: it was not built or run again.\n`) +
      describeResult(req.build, req.exec, modeOf(req.checks)),
    output: judgedOutput(req.build, req.exec),
    checks: describeChecks(req.checks),
    checkResults: describeCheckResults(req.checks, req.checkResults),
    projectMap: describeMap(req.projectMap),
    reads: describeReads(req.reads),
  };
  return [
    { role: "system", content: render(t.validateSystem.text, common, t.validateSystem.source) },
    { role: "user", content: renderBlocks(t.validateUser.text, values, t.validateUser.source) },
  ];
}
