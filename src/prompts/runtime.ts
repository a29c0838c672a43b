import type { CheckView, Limits, RuntimeFacts } from "../core/types.js";
import { formatBytes, formatDuration } from "../util/format.js";

/** What the ENTRYPOINT is in this run: a program that finishes, or a service azlon stops. */
export type RunMode = "program" | "service";

export function modeOf(checks: CheckView | null): RunMode {
  return checks?.ready ? "service" : "program";
}

export function describeLimits(limits: Limits, mode: RunMode = "program"): string {
  return [
    `- memory: ${formatBytes(limits.memoryBytes)} (no swap); going over it kills the program`,
    `- CPUs: ${limits.cpus}`,
    `- processes and threads: at most ${limits.pids}`,
    limits.network === "none"
      ? "- network while the program runs: none (no internet, no DNS); the build itself has network, so install dependencies in the Dockerfile"
      : "- network while the program runs: yes (bridge)",
    mode === "service"
      ? `- the service runs until azlon stops it after the checks; the build is stopped after ${formatDuration(limits.buildTimeoutMs)}`
      : `- the program is stopped after ${formatDuration(limits.runTimeoutMs)}; the build after ${formatDuration(limits.buildTimeoutMs)}`,
    `- stdout and stderr are shown merged, as printed${mode === "service" ? ", up to that stop" : ""}`,
    "- no files, sockets or secrets from the host are mounted; all capabilities are dropped",
  ].join("\n");
}

/** The rule the ENTRYPOINT keeps, said once for the mode the run is in. */
export function describeEntrypoint(mode: RunMode): string {
  return mode === "service"
    ? "The program is a service: the ENTRYPOINT (or CMD), with no arguments or input, starts it and keeps it running (it never exits on its own; azlon stops it after the user's checks). A self-test must leave nothing the checks would see: run it before serving (exit non-zero, without serving, when it fails) or against a separate instance (its own port and data)."
    : "The ENTRYPOINT (or CMD), on its own with no arguments, input or network, runs everything that shows the test conditions hold (the checks, tests or demonstration they ask for), prints the results and exits, non-zero when a check fails. No server that waits forever: a server is started, exercised and stopped by the same entrypoint.";
}

const LANGUAGES = ["python3", "node", "java", "go", "ruby"];
const PACKAGE_TOOLS = ["apt-get", "apk", "dnf", "yum", "microdnf"];

/** "a, b or c". */
function orList(items: readonly string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

/** What azlon learnt about the base image, in one sentence; empty when it learnt nothing. */
export function describeRuntime(facts: RuntimeFacts | null): string {
  if (!facts) return "";
  const parts: string[] = [];
  if (facts.os || facts.arch) parts.push([facts.os, facts.arch].filter(Boolean).join(" on "));
  if (facts.probed) {
    const found = new Map(facts.found.map((f) => [f.name, f.version]));
    const languages = LANGUAGES.filter((l) => found.has(l));
    for (const name of languages) {
      const version = found.get(name);
      let text = version ? `${name} (${version})` : name;
      if (name === "python3" && facts.pip !== null) text += facts.pip ? " with pip" : " without pip";
      if (name === "node" && found.has("npm")) text += " with npm";
      parts.push(text);
    }
    if (!languages.length) parts.push(`no ${orList(LANGUAGES)}`);
    if (found.has("gcc")) parts.push("gcc");
    const tools = PACKAGE_TOOLS.filter((t) => found.has(t));
    parts.push(
      tools.length ? `package tool: ${tools.join(", ")}` : `no package tool (${orList(PACKAGE_TOOLS)})`,
    );
  } else {
    parts.push(...facts.versions);
  }
  if (facts.user) parts.push(`runs as user ${facts.user}, not root`);
  if (facts.locale !== null) parts.push(facts.locale ? `locale ${facts.locale}` : "no LANG or LC_ALL set");
  return parts.length ? `In it, azlon found: ${parts.join("; ")}.` : "";
}

export function describeBaseImage(baseImage: string | null, runtime: RuntimeFacts | null = null): string {
  if (!baseImage)
    return "choose a small official image that fits the language (for example python:3.12-slim)";
  const found = describeRuntime(runtime);
  return `use \`FROM ${baseImage}\` (it is available locally; other images may not be pullable).${found ? ` ${found}` : ""}`;
}
