import { z } from "zod";
import { ResultSchema } from "../engine/result.js";

/**
 * The batch's published shapes: batch.json, the --json summary and the --json comparison.
 * schemas/*.schema.json are generated from these (`npm run schema`), never written by hand.
 */

const count = z.int().min(0);

export const TaskStatusSchema = z
  .enum(["passed", "failed", "error", "interrupted", "pending"])
  .describe(
    "passed when an attempt passed; else failed when one failed, error when one ended on an error; interrupted or pending when none finished",
  );
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

export const TotalsSchema = z
  .object({
    tasks: count,
    passed: count,
    failed: count,
    error: count,
    passAt1: z.number().min(0).max(1).describe("the mean over tasks of the share of attempts that passed"),
    passAtK: z
      .number()
      .min(0)
      .max(1)
      .describe(
        "the unbiased pass@k over tasks, k the batch's --attempts (of each task's finished attempts)",
      ),
    tokens: count.describe("prompt and completion tokens of every attempt"),
    costUsd: z
      .number()
      .min(0)
      .nullable()
      .describe("null when an attempt's cost is unknown (no price for its model)"),
    durationMs: count.describe(
      "the batch's own time: summed over its legs (a merged batch: its longest shard's)",
    ),
  })
  .strict();
export type Totals = z.infer<typeof TotalsSchema>;

/** The --json summary: one object on stdout at the end of `azlon batch` (and of `bench`). */
export const SummarySchema = z
  .object({
    schemaVersion: z.literal(1),
    batchDir: z.string(),
    tasks: z.array(
      z
        .object({
          id: z.string(),
          status: TaskStatusSchema,
          attempts: z.array(ResultSchema).describe("each finished or stopped attempt's --json run result"),
        })
        .strict(),
    ),
    totals: TotalsSchema,
  })
  .strict();
export type Summary = z.infer<typeof SummarySchema>;

const ShardSchema = z.object({ index: z.int().min(1), total: z.int().min(1) }).strict();

export const AttemptSchema = z
  .object({
    attempt: z.int().min(1),
    dir: z.string().describe("the attempt's folder, relative to the batch folder"),
    result: ResultSchema.nullable().describe("its run's --json result; null while it has none"),
  })
  .strict();
export type AttemptRecord = z.infer<typeof AttemptSchema>;

/** batch.json: what the batch is, how it was asked for, and where each task and attempt stands. */
export const BatchFileSchema = z
  .object({
    schemaVersion: z.literal(1),
    batchId: z.string(),
    source: z.string().describe("the tasks (a .jsonl file or a folder), as an absolute path"),
    mergedFrom: z.array(z.string()).nullable().describe("the shard folders a merged batch was made of"),
    createdAt: z.string(),
    updatedAt: z.string(),
    status: z.enum(["running", "finished", "stopped"]),
    stopReason: z
      .enum(["max-cost", "max-time", "interrupted", "environment"])
      .nullable()
      .describe("why a stopped batch stopped before its end"),
    options: z
      .object({
        attempts: z.int().min(1),
        concurrency: z.int().min(1),
        shard: ShardSchema.nullable(),
        oracle: z.boolean(),
        model: z.string().nullable(),
        maxCostUsd: z.number().positive().nullable(),
        maxTimeMs: z.int().positive().nullable(),
      })
      .strict(),
    elapsedMs: count,
    tasks: z.array(
      z
        .object({
          id: z.string(),
          format: z.enum(["jsonl", "azlon", "harbor"]),
          source: z.string(),
          status: TaskStatusSchema,
          attempts: z.array(AttemptSchema),
        })
        .strict(),
    ),
    totals: TotalsSchema,
  })
  .strict();
export type BatchFile = z.infer<typeof BatchFileSchema>;

const SideSchema = z
  .object({
    passed: count,
    tasks: count,
    passRate: z.number().min(0).max(1),
    tokensPerPassedTask: z.number().min(0).nullable(),
    costUsdPerPassedTask: z.number().min(0).nullable(),
  })
  .strict();

/** `azlon batch compare --json`: the tasks both batches ran, paired. */
export const CompareSchema = z
  .object({
    schemaVersion: z.literal(1),
    tasks: z.array(z.object({ id: z.string(), a: TaskStatusSchema, b: TaskStatusSchema }).strict()),
    a: SideSchema,
    b: SideSchema,
    difference: z.number().min(-1).max(1).describe("b's pass rate minus a's, on the paired tasks"),
    pValue: z
      .number()
      .min(0)
      .max(1)
      .describe("exact McNemar test on the tasks one side passed and the other did not"),
    interval: z
      .tuple([z.number(), z.number()])
      .describe("95% interval for the difference: Newcombe's hybrid score interval for paired data"),
  })
  .strict();
export type Comparison = z.infer<typeof CompareSchema>;

function published(title: string, schema: z.ZodType): Record<string, unknown> {
  return { title, ...z.toJSONSchema(schema, { target: "draft-2020-12" }) };
}

/** The JSON Schemas written to schemas/ by `npm run schema`. */
export function batchJsonSchemas(): Record<string, Record<string, unknown>> {
  return {
    "batch.schema.json": published("azlon batch.json", BatchFileSchema),
    "batch-summary.schema.json": published("azlon batch --json summary", SummarySchema),
    "batch-compare.schema.json": published("azlon batch compare --json", CompareSchema),
  };
}
