import { z } from "zod";

// Strict structured outputs: every field is required; "optional" is expressed as nullable.
const FileSchema = z
  .object({
    path: z.string().describe("Path relative to the project root, with forward slashes"),
    content: z.string().describe("The whole content of the file"),
  })
  .strict();

/** The generation answer of SPEC.md's contract. */
export const GenerationSchema = z
  .object({
    plan: z.string().describe("The test conditions restated as concrete checks, then the approach"),
    dockerfile: z.string().describe("The whole Dockerfile"),
    files: z.array(FileSchema).describe("Every file of the project except the Dockerfile"),
  })
  .strict();

/** The verdict answer of SPEC.md's contract. */
export const VerdictSchema = z
  .object({
    passed: z.boolean(),
    reason: z.string(),
    evidence: z.array(z.string()).describe("Lines copied exactly from the program's output"),
    dockerfile: z.string().nullable().describe("A whole new Dockerfile, or null to keep it"),
    files: z.array(FileSchema).nullable().describe("Whole replacement or new files, only those that change"),
    delete: z.array(z.string()).nullable().describe("Paths of files to delete"),
  })
  .strict();

export type GenerationAnswer = z.infer<typeof GenerationSchema>;
export type VerdictAnswer = z.infer<typeof VerdictSchema>;
