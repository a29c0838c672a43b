import type { ProjectView, ReadFiles } from "../core/types.js";
import { nameList } from "../util/echo.js";
import { fileBlock } from "./file-blocks.js";

/** How many paths an ask to read may name (src/core/steps/read.ts holds the bound). */
const READ_PATHS = 20;

/**
 * Rules 2 and 3 of the builder's rules: for a new project, the files and the Dockerfile it
 * writes; for the user's project, how to change it (read, edits) and whether its Dockerfile stays.
 */
export function projectRules(project: { hasDockerfile: boolean } | null, entrypoint: string): string {
  if (!project) {
    return [
      '2. files: a README.md first, holding the plan in short. Then the manifests (requirements.txt, package.json, go.mod, ...), if any, before any code. Then the code. Paths are relative to the project root and use forward slashes; never absolute paths or `..`. Send every file whole, and set "edits" and "read" to null.',
      `3. dockerfile: the Dockerfile at the project root, sent in the "dockerfile" field only (not as a file). ${entrypoint}`,
    ].join("\n");
  }
  return [
    `2. You change the user's existing project. The request shows a map of its files (paths and sizes) and the files most likely to matter; the rest are there as the map says. Change only what the task needs, in the project's own style and layout, and keep what works. To see files the request does not show, answer with "read": their paths (at most ${READ_PATHS}), and empty "files" and null "edits": azlon shows them in the next request and applies nothing else of that answer. Change a file you have seen with "edits" ("search" copied exactly from it, occurring once); send new files, or files you rewrite mostly, whole in "files". Never rewrite a file you have not seen. Paths are relative to the project root, with forward slashes.`,
    project.hasDockerfile
      ? `3. dockerfile: null keeps the project's Dockerfile (shown in the request); send a whole new one only when it must change. ${entrypoint}`
      : `3. dockerfile: the project has none, so write one for its root, in the "dockerfile" field only (not as a file), copying the project in. ${entrypoint}`,
  ].join("\n");
}

/** The user's project in the first request: its map, its Dockerfile, the files that matter. */
export function describeProject(view: ProjectView | null | undefined): string {
  if (!view) return "";
  const where = view.dockerfilePath ? ` (the project's ${view.dockerfilePath}, built as the Dockerfile)` : "";
  const parts = [
    "# The user's project (your starting point)",
    "",
    "It is in the build folder as it is; your answer changes it.",
    "",
    "## Map",
    "",
    view.map,
    "",
    `## Dockerfile${where}`,
    "",
    view.dockerfile === null ? "(none: the project has no Dockerfile; write one)" : view.dockerfile,
    "",
    "## Files most likely to matter",
    "",
    view.files.length ? view.files.map(fileBlock).join("\n") : "(none stood out; read what you need)",
  ];
  if (view.named.length)
    parts.push("", `Also likely to matter (ask to read them): ${nameList(view.named, 20)}`);
  return parts.join("\n");
}

/** The files an answer asked to read, for the next request of the same step. */
export function describeReads(reads: ReadFiles | null | undefined): string {
  if (!reads) return "";
  const parts = ["# Files you asked to read", ""];
  parts.push(reads.files.length ? reads.files.map(fileBlock).join("\n") : "(none could be shown)");
  if (reads.refused.length) {
    parts.push("", "Not shown:", ...reads.refused.map((r) => `- ${r.path}: ${r.reason}`));
  }
  parts.push(
    "",
    reads.left > 0
      ? `You may ask to read ${reads.left} more time${reads.left === 1 ? "" : "s"} this round; now answer if you can.`
      : "You cannot ask to read again this round: answer now.",
  );
  return parts.join("\n");
}

/** The map of the whole project in the judge's request, when it shows only the files that matter. */
export function describeMap(map: string | null | undefined): string {
  if (!map) return "";
  return [
    "# Map of the whole project",
    "",
    'The files shown above are those that matter to the task; the others are in the project as this map lists them (ask to read one with "read").',
    "",
    map,
  ].join("\n");
}
