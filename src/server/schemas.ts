import { z } from "zod";
import { ConfigSchema } from "../config/schema.js";
import { RESUME_KEYS } from "../engine/runs.js";
import { TEMPLATE_NAMES } from "../prompts/templates.js";

const MAX_TEXT = 100_000;
const text = (what: string) =>
  z.string().trim().min(1, `${what} cannot be empty`).max(MAX_TEXT, `at most ${MAX_TEXT} characters`);

/**
 * The run options a request may set; the rest are the server's (its config and flags). Not the
 * endpoint: a request that could set baseUrl could send the server's API key to any host.
 */
export const RunOptionsSchema = ConfigSchema.pick({
  model: true,
  maxIterations: true,
  maxTokens: true,
  maxCost: true,
  maxTime: true,
  runTimeout: true,
  buildTimeout: true,
  memory: true,
  cpus: true,
  pids: true,
  network: true,
  verdict: true,
  checkTimeout: true,
  checksNeed: true,
  service: true,
  ready: true,
  readyTimeout: true,
  baseImage: true,
}).strict();

export const CreateRunSchema = z
  .object({
    prompt: text("prompt"),
    tests: text("tests"),
    checks: ConfigSchema.shape.checks.optional(),
    options: RunOptionsSchema.optional(),
    /** A folder under the server's --projects-root to start from (a copy; never written). */
    from: z.string().trim().min(1, "from cannot be empty").max(4096).optional(),
  })
  .strict();

/** What a request may raise on resume: what `azlon resume` may, but the endpoint (see above). */
type ServedResumeKey = Exclude<(typeof RESUME_KEYS)[number], "baseUrl">;
const SERVED_RESUME_KEYS = Object.fromEntries(
  RESUME_KEYS.filter((key) => key !== "baseUrl").map((key) => [key, true]),
) as Record<ServedResumeKey, true>;

export const ResumeSchema = z
  .object({ options: ConfigSchema.pick(SERVED_RESUME_KEYS).strict().optional() })
  .strict();

export const PutPromptsSchema = z
  .object({
    templates: z
      .object(Object.fromEntries(TEMPLATE_NAMES.map((n) => [n, z.string().max(MAX_TEXT).optional()])))
      .strict(),
  })
  .strict();

/** The original's POST /run_workflow. */
export const WorkflowSchema = z.object({
  user_prompt: text("user_prompt"),
  test_conditions: text("test_conditions"),
});

/** The original's POST /prompts. */
export const OriginalPromptsSchema = z
  .object({
    generate_code_prompt: z.string().max(MAX_TEXT).optional(),
    validate_output_prompt: z.string().max(MAX_TEXT).optional(),
  })
  .strict();

export const ListQuerySchema = z.object({
  status: z.enum(["queued", "running", "passed", "failed", "error", "interrupted"]).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
