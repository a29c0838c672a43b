import type { z } from "zod";
import type { ConfigKey } from "./schema.js";

const SECONDS = "a number of seconds greater than 0";

/** What each key accepts, in the words a user reads after "must be". */
export const ACCEPTS: Partial<Record<ConfigKey, string>> = {
  model: "a model name (not empty)",
  baseUrl: "a URL such as http://localhost:11434/v1",
  maxIterations: "a whole number from 1 to 1000",
  out: "a folder path (not empty)",
  runTimeout: SECONDS,
  buildTimeout: SECONDS,
  memory: 'a size of at least 6 MiB, such as "512m" or "2g"',
  cpus: "a number greater than 0 and at most 256",
  pids: "a whole number from 16 to 1000000",
  network: '"none" or "bridge"',
  baseImage: "an image name (not empty)",
  builder: "auto, classic or buildkit",
  structuredOutput: '"auto", "json_schema" or "json"',
  modelRetries: "a whole number from 0 to 20",
  modelTimeout: SECONDS,
  repairAttempts: "a whole number from 0 to 10",
  temperature: "a number from 0 to 2",
  maxTokens: "a whole number greater than 0",
  maxCost: "an amount in USD greater than 0",
  maxTime: SECONDS,
  maxOutputBytes: "a whole number of bytes from 1024 to 10485760",
  maxLogBytes: "a whole number of bytes, at least 1024",
  maxFiles: "a whole number from 1 to 10000",
  maxFileBytes: "a whole number of bytes, at least 1",
  maxPathLength: "a whole number from 16 to 4096",
  prompts: "an object naming template files: generateSystem, generateUser, validateSystem, validateUser",
  prices: "an object of model names to { input, output, cachedInput } in USD per million tokens",
  checks: "a list of shell commands (none empty, at most 100)",
  checksDir: "a folder path (not empty)",
  hideChecks: "true or false",
  checkImage: "a Docker image name (not empty)",
  checksNeed: 'one short line such as "python3 and PyYAML" (at most 300 characters)',
  service: "true or false",
  ready: "a shell command (not empty)",
  readyTimeout: SECONDS,
  checkTimeout: SECONDS,
  verdict: '"checks", "judge" or "both"',
  maxReplyTokens: "a whole number of tokens greater than 0, or null for none",
  maxRetryWait: SECONDS,
  maxReplyBytes: "a whole number of bytes, at least 65536",
  from: "a folder path (not empty)",
  dockerfile: "a path inside the --from folder (not empty)",
  branch: "a branch name (not empty)",
  apply: "true or false",
  keepDockerfile: "true or false",
  maxFromSize: 'a size such as "200m" or "1g"',
};

/** For keys without a line in ACCEPTS (nested ones such as prices.x.input): from the issue itself. */
function acceptsFromIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      if (issue.expected === "int") return "a whole number";
      return issue.expected === "object" ? "an object" : `a ${issue.expected}`;
    case "too_small":
      if (issue.origin === "string" && Number(issue.minimum) === 1) return "not empty";
      return `${issue.origin === "int" ? "a whole number" : "a number"} ${issue.inclusive ? "of at least" : "greater than"} ${issue.minimum}`;
    case "too_big":
      return `${issue.origin === "int" ? "a whole number" : "a number"} ${issue.inclusive ? "of at most" : "less than"} ${issue.maximum}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return issue.format === "url" ? "a URL" : `a valid ${issue.format}`;
    default:
      return issue.message;
  }
}

/** What the value at this issue's path must be. */
export function acceptsFor(issue: z.core.$ZodIssue): string {
  const key = issue.path.length === 1 ? (issue.path[0] as ConfigKey) : null;
  return (key && ACCEPTS[key]) || acceptsFromIssue(issue);
}

/** The value the user gave, shown back: flags as the text typed, config values as JSON. */
export function shownValue(data: unknown, path: readonly PropertyKey[]): string {
  let value: unknown = data;
  for (const part of path) {
    value =
      value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[part] : undefined;
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The known key closest to a mistyped one, if it is close enough to be a typo. */
export function closestKey(typed: string, keys: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(typed.length / 3)) + 1;
  for (const key of keys) {
    const d = distance(typed.toLowerCase(), key.toLowerCase());
    if (d < bestDistance) {
      best = key;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
