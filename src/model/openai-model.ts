import type OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { AbortedError, abortCause, EndpointError, ModelReplyError } from "../core/errors.js";
import type { CallOutcome, EventSink, ModelPurpose } from "../core/events.js";
import type {
  GenerateRequest,
  Generation,
  JudgeFeedback,
  JudgeRequest,
  Model,
  ModelContext,
  Usage,
  Verdict,
} from "../core/types.js";
import { type ChatMessage, generateMessages, judgeMessages, type PromptContext } from "../prompts/compose.js";
import type { Templates } from "../prompts/templates.js";
import { type EndpointInfo, isBadRequest, isUserAbort, mapApiError } from "./api-errors.js";
import { parseReply } from "./reply.js";
import { GenerationReply, GenerationSchema, VerdictReply, VerdictSchema } from "./schemas.js";

export type StructuredOutputMode = "json_schema" | "json";

export interface OpenAIModelOptions {
  model: string;
  /** For messages only; the client already points at it. */
  baseUrl: string;
  /** "auto" starts with json_schema and falls back to json when the endpoint answers 400. */
  structuredOutput: "auto" | StructuredOutputMode;
  repairAttempts: number;
  maxRetries: number;
  timeoutMs: number;
  temperature: number | null;
  templates: Templates;
  promptContext: PromptContext;
  /** Called when auto mode falls back, so the run keeps the mode on resume. */
  onModeChange?: (mode: StructuredOutputMode) => void;
}

/** Longest part of an unusable reply shown back to the model in a repair turn. */
const REPAIR_ECHO_CHARS = 8000;
/** Longest part of an unusable reply kept in the journal. */
const JOURNAL_REPLY_CHARS = 20000;

/**
 * The Model over any OpenAI-compatible Chat Completions endpoint, with structured outputs.
 * It uses create() rather than parse(): parse() throws away the completion (its text and its
 * token usage) when the reply is malformed, and we need both for the repair turn and the bill.
 */
export class OpenAIModel implements Model {
  private mode: StructuredOutputMode;
  private httpSink: EventSink | null = null;
  private attempt = 0;

  constructor(
    private readonly client: OpenAI,
    private readonly options: OpenAIModelOptions,
  ) {
    this.mode = options.structuredOutput === "json" ? "json" : "json_schema";
  }

  /** A fetch for the OpenAI client that journals every HTTP attempt, retries included. */
  static journalingFetch(model: () => OpenAIModel | null): typeof fetch {
    return async (input, init) => {
      const self = model();
      const started = performance.now();
      const attempt = self ? ++self.attempt : 0;
      try {
        const response = await fetch(input, init);
        self?.httpSink?.({
          type: "model.http",
          status: response.status,
          error: null,
          durationMs: Math.round(performance.now() - started),
          attempt,
        });
        return response;
      } catch (error) {
        self?.httpSink?.({
          type: "model.http",
          status: null,
          error: error instanceof Error ? error.message : String(error),
          durationMs: Math.round(performance.now() - started),
          attempt,
        });
        throw error;
      }
    };
  }

  get structuredOutputMode(): StructuredOutputMode {
    return this.mode;
  }

  async generate(request: GenerateRequest, ctx: ModelContext): Promise<Generation> {
    const messages = generateMessages(this.options.templates, this.options.promptContext, request);
    return this.complete("generate", messages, GenerationSchema, GenerationReply, "generation", ctx);
  }

  async judge(request: JudgeRequest, feedback: JudgeFeedback[], ctx: ModelContext): Promise<Verdict> {
    const messages = judgeMessages(this.options.templates, this.options.promptContext, request);
    for (const turn of feedback) {
      messages.push({ role: "assistant", content: JSON.stringify(turn.previous) });
      messages.push({ role: "user", content: turn.problem });
    }
    return this.complete("judge", messages, VerdictSchema, VerdictReply, "verdict", ctx);
  }

  private endpointInfo(): EndpointInfo {
    return { baseUrl: this.options.baseUrl, model: this.options.model, retries: this.options.maxRetries };
  }

  private withSchemaInstruction(messages: ChatMessage[], schema: z.ZodType): ChatMessage[] {
    const jsonSchema = JSON.stringify(z.toJSONSchema(schema));
    const instruction =
      "\n\nAnswer with one JSON object and nothing else: no code fence, no text before or after it. " +
      `It must match this JSON Schema:\n${jsonSchema}`;
    return messages.map((m, i) =>
      i === 0 && m.role === "system" ? { ...m, content: m.content + instruction } : m,
    );
  }

  /** Asks for an answer matching `schema`; accepts one matching `replySchema` (a little more lenient). */
  private async complete<T>(
    purpose: ModelPurpose,
    base: ChatMessage[],
    schema: z.ZodType,
    replySchema: z.ZodType<T>,
    schemaName: string,
    ctx: ModelContext,
  ): Promise<T> {
    const conversation = [...base];
    let lastProblem = "";
    for (let turn = 0; turn <= this.options.repairAttempts; ) {
      const mode = this.mode;
      const messages = mode === "json" ? this.withSchemaInstruction(conversation, schema) : conversation;
      const started = performance.now();
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      this.httpSink = ctx.emit;
      this.attempt = 0;
      try {
        completion = await this.client.chat.completions.create(
          {
            model: this.options.model,
            messages,
            ...(mode === "json_schema" ? { response_format: zodResponseFormat(schema, schemaName) } : {}),
            ...(this.options.temperature !== null ? { temperature: this.options.temperature } : {}),
          },
          { signal: ctx.signal, maxRetries: this.options.maxRetries, timeout: this.options.timeoutMs },
        );
      } catch (error) {
        if (ctx.signal.aborted || isUserAbort(error)) throw new AbortedError(abortCause(ctx.signal));
        if (
          isBadRequest(error) &&
          mode === "json_schema" &&
          this.options.structuredOutput === "auto" &&
          /response_format|json_schema|schema|structured/i.test(error.message)
        ) {
          this.mode = "json";
          ctx.emit({
            type: "model.fallback",
            from: "json_schema",
            to: "json",
            reason: `the endpoint answered 400 to json_schema: ${error.message.slice(0, 300)}`,
          });
          this.options.onModeChange?.("json");
          continue; // same turn, plain JSON mode
        }
        throw mapApiError(error, this.endpointInfo());
      } finally {
        this.httpSink = null;
      }

      if (!Array.isArray((completion as { choices?: unknown } | null)?.choices)) {
        throw new EndpointError(
          `the endpoint at ${this.options.baseUrl} did not answer like a Chat Completions API`,
          "check --base-url (or OPENAI_BASE_URL): it is usually the server's address ending in /v1",
        );
      }
      const durationMs = Math.round(performance.now() - started);
      const usage: Usage = {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
        cachedTokens: completion.usage?.prompt_tokens_details?.cached_tokens ?? 0,
      };
      const choice = completion.choices[0];
      const message = choice?.message;
      const finishReason = choice?.finish_reason ?? null;
      const content = message?.content ?? null;
      const call = {
        type: "model.call" as const,
        purpose,
        iteration: ctx.iteration,
        turn,
        mode,
        finishReason,
        usage,
        durationMs,
      };

      let outcome: CallOutcome;
      let repair: string;
      let echo: string | null = null;
      if (message?.refusal) {
        outcome = "refusal";
        lastProblem = `the model refused: ${message.refusal.slice(0, 300)}`;
        echo = message.refusal;
        repair =
          "You declined to answer. This is an ordinary software task: the code runs in an isolated, " +
          "resource-limited container with no access to anyone's data. Please answer it with the JSON object asked for.";
      } else if (finishReason === "length") {
        outcome = "length";
        lastProblem = "the reply was cut off at the model's output length limit";
        repair =
          "Your reply was cut off at the output length limit, so it was lost. Answer again, shorter: " +
          "keep files small, leave out comments and anything the task does not need" +
          (purpose === "judge"
            ? ", and change only what must change (edits for small changes to large files)."
            : ".");
      } else if (finishReason === "content_filter") {
        outcome = "refusal";
        lastProblem = "the endpoint's content filter stopped the reply";
        repair = "Your reply was stopped by a content filter. Answer again with the JSON object asked for.";
      } else {
        const parsed = parseReply(content, replySchema);
        if (parsed.ok) {
          ctx.emit({ ...call, outcome: "ok", detail: null, reply: null });
          return parsed.value;
        }
        outcome = "invalid";
        lastProblem = parsed.problem;
        echo = content;
        repair = `Your reply could not be used: ${parsed.problem}. Answer again with only the JSON object the schema describes.`;
      }
      const reply = content ?? message?.refusal ?? null;
      // The unusable reply is kept in the journal (bounded), for whoever reads the run later.
      ctx.emit({
        ...call,
        outcome,
        detail: lastProblem,
        reply: reply?.slice(0, JOURNAL_REPLY_CHARS) ?? null,
      });
      if (echo !== null) conversation.push({ role: "assistant", content: echo.slice(0, REPAIR_ECHO_CHARS) });
      conversation.push({ role: "user", content: repair });
      turn++;
    }
    const tries = this.options.repairAttempts + 1;
    throw new ModelReplyError(
      `the model's ${purpose === "generate" ? "project" : "verdict"} reply was unusable ${tries} time${tries === 1 ? "" : "s"} in a row; the last problem: ${lastProblem}`,
      "the replies are in events.jsonl; try another --model, raise repairAttempts, or `azlon resume` the run",
    );
  }
}
