import { z } from "zod";

// Strict structured outputs: every field is required; "optional" is expressed as nullable.
const FileSchema = z
  .object({
    path: z.string().describe("Path relative to the project root, with forward slashes"),
    content: z.string().describe("The whole content of the file"),
  })
  .strict();

const EditSchema = z
  .object({
    path: z.string().describe('The file to change (the Dockerfile is "Dockerfile")'),
    search: z.string().describe("Text copied exactly from the file, occurring in it exactly once"),
    replace: z.string().describe("The text that takes its place"),
  })
  .strict();

const EditsField = z
  .array(EditSchema)
  .nullable()
  .describe("Small changes to existing files, applied in order after files; or null");

const ReadField = z
  .array(z.string())
  .nullable()
  .describe("Paths of files to see first (nothing else of this answer is applied then); or null");

/** The generation answer of SPEC.md's contract, as the model is asked for it. */
export const GenerationSchema = z
  .object({
    plan: z.string().describe("The test conditions restated as concrete checks, then the approach"),
    dockerfile: z.string().describe("The whole Dockerfile"),
    files: z.array(FileSchema).describe("Every file of the project except the Dockerfile"),
    edits: EditsField,
    read: ReadField,
  })
  .strict();

/** The generation answer in a run from the user's project that has a Dockerfile: null keeps it. */
export const SourceGenerationSchema = GenerationSchema.extend({
  dockerfile: z.string().nullable().describe("A whole new Dockerfile, or null to keep the project's"),
  files: z.array(FileSchema).describe("New files, and files rewritten whole; the project's others stay"),
}).strict();

/** The verdict answer of SPEC.md's contract, as the model is asked for it. */
export const VerdictSchema = z
  .object({
    passed: z.boolean(),
    reason: z.string(),
    evidence: z
      .array(z.string())
      .describe("Lines the program or a check printed, each whole and as printed, one per string"),
    dockerfile: z.string().nullable().describe("A whole new Dockerfile, or null to keep it"),
    files: z.array(FileSchema).nullable().describe("Whole replacement or new files, only those that change"),
    edits: EditsField,
    delete: z.array(z.string()).nullable().describe("Paths of files to delete"),
    read: ReadField,
  })
  .strict();

// What is read back: a reply that leaves "edits" or "read" out (a model in plain-JSON mode, or
// a custom prompt that never asks for them) means none. Not worth a repair turn. Never sent as
// a schema.
const lenientEdits = EditsField.optional().transform((edits) => edits ?? null);
const lenientRead = ReadField.optional().transform((read) => read ?? null);

/** Parses a generation answer; "edits" and "read" may be missing. */
export const GenerationReply = GenerationSchema.extend({ edits: lenientEdits, read: lenientRead });

/** Parses a generation answer from the user's project; "dockerfile" may be null. */
export const SourceGenerationReply = SourceGenerationSchema.extend({
  edits: lenientEdits,
  read: lenientRead,
});

/** Parses a verdict answer; "edits" and "read" may be missing. */
export const VerdictReply = VerdictSchema.extend({ edits: lenientEdits, read: lenientRead });

export type GenerationAnswer = z.infer<typeof GenerationReply>;
export type VerdictAnswer = z.infer<typeof VerdictReply>;
