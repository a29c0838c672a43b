import { z } from "zod";
import { parseSize } from "../util/format.js";
import { DEFAULTS } from "./defaults.js";

export { DEFAULTS };

const size = z.union([z.string(), z.number()]).refine((v) => {
  const bytes = parseSize(v);
  return bytes !== null && bytes >= 6 * 2 ** 20;
}, 'expected a size of at least 6 MiB, such as "512m" or "2g"');

const price = z
  .object({
    input: z.number().min(0),
    output: z.number().min(0),
    cachedInput: z.number().min(0).optional(),
  })
  .strict();

/** Every key of the config file; all optional, unknown keys refused. .azlonrc.example lists them. */
export const ConfigSchema = z
  .object({
    model: z.string().min(1),
    baseUrl: z.url().nullable(),
    maxIterations: z.int().min(1).max(1000),
    out: z.string().min(1),
    runTimeout: z.number().positive(),
    buildTimeout: z.number().positive(),
    memory: size,
    cpus: z.number().positive().max(256),
    pids: z.int().min(16).max(1_000_000),
    network: z.enum(["none", "bridge"]),
    baseImage: z.string().min(1).nullable(),
    builder: z.enum(["auto", "classic", "buildkit"]),
    structuredOutput: z.enum(["auto", "json_schema", "json"]),
    modelRetries: z.int().min(0).max(20),
    modelTimeout: z.number().positive(),
    maxRetryWait: z.number().min(0),
    maxReplyTokens: z.int().positive().nullable(),
    maxReplyBytes: z.int().min(65536),
    repairAttempts: z.int().min(0).max(10),
    temperature: z.number().min(0).max(2).nullable(),
    maxTokens: z.int().positive().nullable(),
    maxCost: z.number().positive().nullable(),
    maxTime: z.number().positive().nullable(),
    maxOutputBytes: z
      .int()
      .min(1024)
      .max(10 * 2 ** 20),
    maxLogBytes: z.int().min(1024),
    maxFiles: z.int().min(1).max(10_000),
    maxFileBytes: z.int().min(1),
    maxPathLength: z.int().min(16).max(4096),
    prompts: z
      .object({
        generateSystem: z.string().min(1),
        generateUser: z.string().min(1),
        validateSystem: z.string().min(1),
        validateUser: z.string().min(1),
      })
      .partial()
      .strict(),
    prices: z.record(z.string(), price),
    checks: z.array(z.string().trim().min(1, "a check command cannot be empty")).max(100),
    checksDir: z.string().min(1).nullable(),
    hideChecks: z.boolean(),
    checkImage: z.string().trim().min(1).nullable(),
    checksNeed: z
      .string()
      .trim()
      .min(1)
      .max(300)
      .refine((v) => !/[\r\n]/.test(v), "one line")
      .nullable(),
    service: z.boolean(),
    ready: z.string().trim().min(1).nullable(),
    readyTimeout: z.number().positive(),
    checkTimeout: z.number().positive().nullable(),
    verdict: z.enum(["checks", "judge", "both"]).nullable(),
    from: z.string().min(1).nullable(),
    dockerfile: z.string().min(1).nullable(),
    branch: z.string().min(1).nullable(),
    apply: z.boolean(),
    keepDockerfile: z.boolean(),
    maxFromSize: z.union([z.string(), z.number()]).refine((v) => {
      const bytes = parseSize(v);
      return bytes !== null && bytes >= 1024;
    }, 'expected a size such as "200m" or "1g"'),
  })
  .partial()
  .strict();

export type ConfigInput = z.infer<typeof ConfigSchema>;
export type ConfigKey = keyof ConfigInput;

/** A complete configuration: every key has a value. */
export type Config = { [K in ConfigKey]-?: Exclude<ConfigInput[K], undefined> };

/** Keys whose flag values arrive as text and are numbers in the config. */
export const NUMERIC_KEYS: readonly ConfigKey[] = [
  "maxIterations",
  "runTimeout",
  "buildTimeout",
  "cpus",
  "pids",
  "modelRetries",
  "modelTimeout",
  "maxRetryWait",
  "maxReplyTokens",
  "maxReplyBytes",
  "repairAttempts",
  "temperature",
  "maxTokens",
  "maxCost",
  "maxTime",
  "maxOutputBytes",
  "maxLogBytes",
  "maxFiles",
  "maxFileBytes",
  "maxPathLength",
  "readyTimeout",
  "checkTimeout",
];
