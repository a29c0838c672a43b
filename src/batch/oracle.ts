import { type Dirent, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { UsageError } from "../core/errors.js";
import type { FileEntry, Generation, JudgeRequest, Model, Verdict } from "../core/types.js";
import { type ImageMap, mapDockerfile } from "./image-map.js";
import type { BatchTask } from "./task.js";

/** Where the oracle puts a Harbor solution in the project; Harbor's oracle has it at /solution. */
const SOLUTION_IN_PROJECT = ".azlon-oracle/solution";

/** A folder's text files by relative path (Dockerfile at its root apart); links are not followed. */
function projectFiles(dir: string, where: string): { dockerfile: string | null; files: FileEntry[] } {
  const files: FileEntry[] = [];
  let dockerfile: string | null = null;
  const walk = (current: string) => {
    const entries: Dirent[] = readdirSync(current, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const entry of entries) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      if (!entry.isFile()) continue;
      const path = relative(dir, full).split(sep).join("/");
      const data = readFileSync(full);
      if (data.subarray(0, 8000).includes(0)) {
        throw new UsageError(
          `${where}: the oracle answers with text files, and ${full} is binary`,
          "keep binary files in the image's build (e.g. made by a RUN step)",
        );
      }
      if (path === "Dockerfile") dockerfile = data.toString("utf8");
      else files.push({ path, content: data.toString("utf8") });
    }
  };
  walk(dir);
  return { dockerfile, files };
}

function overlay(base: FileEntry[], top: FileEntry[]): FileEntry[] {
  const byPath = new Map(base.map((f) => [f.path, f]));
  for (const f of top) byPath.set(f.path, f);
  return [...byPath.values()];
}

function quoted(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The answer a model that knows the solution gives: azlon's solution/ laid over the task's
 * project, or Harbor's environment with solution/solve.sh run as a last build step (where
 * Harbor's oracle agent runs it: in the environment, from its working folder). With
 * `startsFrom` the engine has the project already, and only the solution is sent.
 */
export function oracleAnswer(task: BatchTask, map: ImageMap, startsFrom: boolean): Generation {
  const solution = task.solution;
  if (!solution) {
    throw new UsageError(
      `${task.source}: --oracle needs the task's reference solution, and it has none`,
      task.format === "harbor"
        ? "add solution/solve.sh"
        : task.format === "azlon"
          ? "add a solution/ folder: the project's files (with its Dockerfile) that pass the checks"
          : 'add "solution": a folder with the project (Dockerfile and files) that passes the checks',
    );
  }
  const where = task.source;
  const project = task.from && !startsFrom ? projectFiles(task.from, where) : { dockerfile: null, files: [] };
  if (solution.kind === "project") {
    const own = projectFiles(solution.dir, where);
    const dockerfile = own.dockerfile ?? (task.from ? projectFiles(task.from, where).dockerfile : null);
    if (dockerfile === null) {
      throw new UsageError(`${where}: the reference solution has no Dockerfile (nor has the task's project)`);
    }
    return {
      plan: "the task's reference solution",
      dockerfile: mapDockerfile(map, dockerfile),
      files: overlay(project.files, own.files),
    };
  }
  const own = projectFiles(solution.dir, where);
  const env = Object.entries(solution.env)
    .map(([name, value]) => `${name}=${quoted(value)} `)
    .join("");
  const base = solution.dockerfile ?? `FROM ${solution.image}\n`;
  const dockerfile = [
    mapDockerfile(map, base).trimEnd(),
    "",
    "# azlon --oracle: the task's solution/solve.sh, run where Harbor's oracle agent runs it",
    `COPY ${SOLUTION_IN_PROJECT}/ /solution/`,
    `RUN ${env}sh -c 'if command -v bash >/dev/null 2>&1; then bash /solution/${solution.script}; else sh /solution/${solution.script}; fi' && rm -rf /solution`,
    "",
  ].join("\n");
  return {
    plan: "the task's reference solution (solution/solve.sh)",
    dockerfile,
    files: [
      ...project.files,
      ...own.files.map((f) => ({ path: `${SOLUTION_IN_PROJECT}/${f.path}`, content: f.content })),
      ...(own.dockerfile === null
        ? []
        : [{ path: `${SOLUTION_IN_PROJECT}/Dockerfile`, content: own.dockerfile }]),
    ],
  };
}

/**
 * A Model that answers with the task's reference solution and never asks an endpoint: the
 * loop, the build and the checks are the real ones, so a pass proves the task solvable and its
 * checks sound. The checks alone decide its runs; a judge asked means they failed.
 */
export class OracleModel implements Model {
  constructor(private readonly answer: Generation) {}

  async generate(): Promise<Generation> {
    return this.answer;
  }

  async judge(request: JudgeRequest): Promise<Verdict> {
    const failed = (request.checkResults?.results ?? [])
      .filter((r) => !r.passed)
      .map((r) => r.problem ?? "failed");
    const why = !request.build.ok
      ? "its build failed"
      : request.checkResults?.service && !request.checkResults.service.ready
        ? "its service never became ready"
        : `${failed.length} check${failed.length === 1 ? "" : "s"} failed (${failed.slice(0, 3).join("; ")})`;
    return {
      passed: false,
      reason: `the reference solution did not pass: ${why}`,
      evidence: [],
      dockerfile: null,
      files: null,
      delete: null,
    };
  }
}
