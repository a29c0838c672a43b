import type { z } from "zod";
import { cutEcho } from "../util/echo.js";

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Pulls the JSON object out of a reply. Models in plain-JSON mode often wrap it in a code
 * fence or add a sentence around it; the outermost {...} is what we want.
 */
export function extractJson(text: string): string {
  const trimmed = text.trim();
  const fence = /^```[a-zA-Z]*\s*\n([\s\S]*?)\n?```\s*$/.exec(trimmed);
  if (fence?.[1] !== undefined) return fence[1].trim();
  if (trimmed.startsWith("{")) return trimmed;
  const start = trimmed.indexOf("{");
  const end = trimmed.lastIndexOf("}");
  return start >= 0 && end > start ? trimmed.slice(start, end + 1) : trimmed;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 8)
    .map((issue) => {
      const where = issue.path.length ? issue.path.join(".") : "(the root)";
      // A message may quote the model's keys ("Unrecognized key: ..."), which may be huge.
      return cutEcho(`${where}: ${issue.message}`);
    })
    .join("; ");
}

/** Parses and validates a reply; on failure says, for the model, exactly what was wrong. */
export function parseReply<T>(text: string | null | undefined, schema: z.ZodType<T>): ParseResult<T> {
  if (text === null || text === undefined || text.trim() === "") {
    return { ok: false, problem: "the reply was empty; it must be one JSON object" };
  }
  let data: unknown;
  try {
    data = JSON.parse(extractJson(text));
  } catch (error) {
    return {
      ok: false,
      problem: `the reply is not valid JSON (${(error as Error).message}); it must be one JSON object and nothing else`,
    };
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    return { ok: false, problem: `the JSON does not match the schema: ${describeIssues(result.error)}` };
  }
  return { ok: true, value: result.data };
}
