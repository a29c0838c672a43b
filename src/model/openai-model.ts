import type OpenAI from "openai";
import { APIConnectionTimeoutError, APIError } from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { AbortedError, abortCause, EndpointError, errorMessage, ModelReplyError } from "../core/errors.js";
import type { CallOutcome, ModelPurpose } from "../core/events.js";
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
import { scopedSignal } from "../util/abort.js";
import { formatCount } from "../util/format.js";
import {
  type EndpointInfo,
  isBadRequest,
  isResponseFormatError,
  isUserAbort,
  mapApiError,
} from "./api-errors.js";
import { isContextLengthError, suggestedContext } from "./context-errors.js";
import { parseReply } from "./reply.js";
import { replyCapFields } from "./reply-cap.js";
import { askedWaitMs, retryPlan, waitAbortably } from "./retry.js";
import {
  GenerationReply,
  GenerationSchema,
  SourceGenerationReply,
  SourceGenerationSchema,
  VerdictReply,
  VerdictSchema,
} from "./schemas.js";
import { boundedFetch, type Exchange } from "./transport.js";

export type StructuredOutputMode = "json_schema" | "json";

export interface OpenAIModelOptions {
  model: string;
  /** For messages only; the client already points at it. */
  baseUrl: string;
  /** "auto" starts with json_schema and falls back to json when the endpoint answers 400. */
  structuredOutput: "auto" | StructuredOutputMode;
  repairAttempts: number;
  /** Retries of a failed request (429, 5xx, no answer); azlon retries, not the SDK. */
  maxRetries: number;
  /** The most a retry waits, whatever Retry-After the endpoint sends. */
  maxRetryWaitMs: number;
  /** One attempt, the whole reply body included. */
  timeoutMs: number;
  /** The reply's token cap sent with every request; null sends none. */
  maxReplyTokens: number | null;
  /** A larger reply is refused unread. */
  maxReplyBytes: number;
  temperature: number | null;
  templates: Templates;
  promptContext: PromptContext;
  /** Called when auto mode falls back, so the run keeps the mode on resume. */
  onModeChange?: (mode: StructuredOutputMode) => void;
}

/** What stands for an unusable reply in the conversation when there is no text to echo. */
const UNUSABLE_REPLY: Record<Exclude<CallOutcome, "ok">, string> = {
  invalid: "(an empty reply)",
  refusal: "(a reply stopped before it was written)",
  length: "(a reply cut off at the length limit)",
};

/**
 * A reply cut off short of azlon's own cap: the server stopped it, by its context (prompt and
 * reply together) or by a reply limit of its own. A shorter answer asked with a longer prompt
 * would fare no better, so this ends the call with what to change.
 */
function cutByServer(where: string, usage: Usage, cap: number): EndpointError {
  const used = usage.promptTokens + usage.completionTokens;
  const ctx = suggestedContext(usage.promptTokens, cap);
  return new EndpointError(
    `the endpoint at ${where} cut the reply off at ${formatCount(usage.completionTokens)} tokens, short of maxReplyTokens (${formatCount(cap)}): its context filled up (the prompt's ${formatCount(usage.promptTokens)} tokens and the reply make ${formatCount(used)}) or it has a reply limit of its own`,
    `give the model a context that holds the prompt and the reply (llama-server -c ${ctx}; Ollama num_ctx, OLLAMA_CONTEXT_LENGTH=${ctx}; vLLM --max-model-len ${ctx}) and no smaller reply limit (llama-server -n, Ollama num_predict)`,
  );
}

/** Longest part of an unusable reply shown back to the model in a repair turn. */
const REPAIR_ECHO_CHARS = 8000;
/** Longest part of an unusable reply kept in the journal. */
const JOURNAL_REPLY_CHARS = 20000;

/**
 * A Chat Completions request body, from the most stable part to the least: the model, the
 * response format and the caps (the same every call of a kind) before the messages, whose end
 * changes every round. Endpoints cache a repeated prefix; the body keeps that order too.
 */
export function requestBody(
  options: Pick<OpenAIModelOptions, "model" | "temperature" | "baseUrl" | "maxReplyTokens">,
  messages: ChatMessage[],
  format: { schema: z.ZodType; name: string } | null,
): OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming {
  return {
    model: options.model,
    ...(format ? { response_format: zodResponseFormat(format.schema, format.name) } : {}),
    ...(options.temperature !== null ? { temperature: options.temperature } : {}),
    ...replyCapFields(options.baseUrl, options.maxReplyTokens),
    messages,
  };
}

/**
 * The Model over any OpenAI-compatible Chat Completions endpoint, with structured outputs.
 * It uses create() rather than parse(): parse() throws away the completion (its text and its
 * token usage) when the reply is malformed, and we need both for the repair turn and the bill.
 */
export class OpenAIModel implements Model {
  private mode: StructuredOutputMode;
  /** The outcome of the HTTP attempt in flight, told by the client's fetch. */
  private exchange: Exchange | null = null;
  /** The longest wait the endpoint asked for in the current request. */
  private askedMs: number | null = null;

  constructor(
    private readonly client: OpenAI,
    private readonly options: OpenAIModelOptions,
  ) {
    this.mode = options.structuredOutput === "json" ? "json" : "json_schema";
  }

  /**
   * The fetch for the OpenAI client (built with maxRetries: 0): reads each reply whole under
   * the request's timeout and maxReplyBytes, and tells the model how each attempt went.
   */
  static journalingFetch(model: () => OpenAIModel | null): typeof fetch {
    return boundedFetch({
      maxReplyBytes: () => model()?.options.maxReplyBytes ?? Number.POSITIVE_INFINITY,
      record: (exchange) => {
        const self = model();
        if (self) self.exchange = exchange;
      },
    });
  }

  get structuredOutputMode(): StructuredOutputMode {
    return this.mode;
  }

  async generate(request: GenerateRequest, ctx: ModelContext): Promise<Generation> {
    const messages = generateMessages(this.options.templates, this.options.promptContext, request);
    // A project of the user's with its own Dockerfile: null keeps it.
    if (request.project?.dockerfile) {
      return this.complete(
        "generate",
        messages,
        SourceGenerationSchema,
        SourceGenerationReply,
        "generation",
        ctx,
      );
    }
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

  private endpointInfo(messages: ChatMessage[]): EndpointInfo {
    return {
      baseUrl: this.options.baseUrl,
      model: this.options.model,
      retries: this.options.maxRetries,
      timeoutMs: this.options.timeoutMs,
      maxRetryWaitMs: this.options.maxRetryWaitMs,
      askedWaitMs: this.askedMs,
      prompt: {
        chars: messages.reduce((sum, m) => sum + m.content.length, 0),
        replyTokens: this.options.maxReplyTokens,
      },
    };
  }

  /**
   * One request, retried here rather than in the SDK: the SDK sleeps out any Retry-After (an
   * hour, if asked) in a timer no signal can end. Each wait is capped by maxRetryWait and ends
   * at once on Ctrl-C or --max-time; each attempt is journaled with the wait that follows it.
   */
  private async request(
    body: OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming,
    ctx: ModelContext,
  ): Promise<OpenAI.Chat.Completions.ChatCompletion> {
    this.askedMs = null;
    for (let attempt = 1; ; attempt++) {
      this.exchange = null;
      // The SDK leaves a listener on the signal it is given: it gets one for this attempt only.
      const attemptSignal = scopedSignal(ctx.signal);
      try {
        const completion = await this.client.chat.completions.create(body, {
          signal: attemptSignal.signal,
          maxRetries: 0,
          timeout: this.options.timeoutMs,
        });
        this.journalAttempt(ctx, attempt, null, null);
        return completion;
      } catch (error) {
        // Stopped by the user or the time budget: not the endpoint's fault, nothing to report.
        if (ctx.signal.aborted || isUserAbort(error)) throw new AbortedError(abortCause(ctx.signal));
        const asked = error instanceof APIError ? askedWaitMs(error.headers) : null;
        if (asked !== null) this.askedMs = Math.max(this.askedMs ?? 0, asked);
        const plan =
          attempt <= this.options.maxRetries ? retryPlan(error, attempt, this.options.maxRetryWaitMs) : null;
        this.journalAttempt(ctx, attempt, error, plan?.waitMs ?? null);
        if (!plan) throw error;
        await waitAbortably(plan.waitMs, ctx.signal);
      } finally {
        attemptSignal.dispose();
      }
    }
  }

  private journalAttempt(ctx: ModelContext, attempt: number, error: unknown, retryInMs: number | null): void {
    const seen = this.exchange;
    const status = seen?.status ?? (error instanceof APIError ? (error.status ?? null) : null);
    let text = seen ? seen.error : error === null ? null : errorMessage(error);
    if (error instanceof APIConnectionTimeoutError) {
      const limit = `within modelTimeout (${this.options.timeoutMs / 1000} s)`;
      text = status === null ? `no answer ${limit}` : `the reply did not complete ${limit}`;
    }
    ctx.emit({
      type: "model.http",
      status,
      error: text,
      durationMs: seen?.durationMs ?? 0,
      attempt,
      retryInMs,
      askedWaitMs: error instanceof APIError ? askedWaitMs(error.headers) : null,
    });
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
    let lastOutcome: CallOutcome | null = null;
    for (let turn = 0; turn <= this.options.repairAttempts; ) {
      const mode = this.mode;
      const messages = mode === "json" ? this.withSchemaInstruction(conversation, schema) : conversation;
      const started = performance.now();
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      try {
        completion = await this.request(
          requestBody(this.options, messages, mode === "json_schema" ? { schema, name: schemaName } : null),
          ctx,
        );
      } catch (error) {
        if (error instanceof AbortedError) throw error;
        if (
          isBadRequest(error) &&
          mode === "json_schema" &&
          this.options.structuredOutput === "auto" &&
          !isContextLengthError(error) &&
          isResponseFormatError(error.message)
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
        throw mapApiError(error, this.endpointInfo(messages));
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
        // Servers that ignore the requested model answer with their own id: price by it.
        servedModel: typeof completion.model === "string" && completion.model ? completion.model : null,
      };

      let outcome: Exclude<CallOutcome, "ok">;
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
        // Cut short of azlon's own cap: the server stopped it (its context or its own limit).
        const cap = this.options.maxReplyTokens;
        if (
          cap !== null &&
          usage.completionTokens > 0 &&
          usage.completionTokens < cap &&
          usage.promptTokens > 0
        ) {
          ctx.emit({
            ...call,
            outcome: "length",
            detail: "cut off by the server, short of maxReplyTokens",
            reply: null,
          });
          throw cutByServer(this.options.baseUrl, usage, cap);
        }
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
      lastOutcome = outcome;
      const reply = content ?? message?.refusal ?? null;
      // The unusable reply is kept in the journal (bounded), for whoever reads the run later.
      ctx.emit({
        ...call,
        outcome,
        detail: lastProblem,
        reply: reply?.slice(0, JOURNAL_REPLY_CHARS) ?? null,
      });
      // Always an assistant turn before the repair: many chat templates (Mistral, Gemma) refuse
      // two user turns in a row.
      conversation.push({
        role: "assistant",
        content: echo ? echo.slice(0, REPAIR_ECHO_CHARS) : UNUSABLE_REPLY[outcome],
      });
      conversation.push({ role: "user", content: repair });
      turn++;
    }
    const tries = this.options.repairAttempts + 1;
    throw new ModelReplyError(
      `the model's ${purpose === "generate" ? "project" : "verdict"} reply was unusable ${tries} time${tries === 1 ? "" : "s"} in a row; the last problem: ${lastProblem}`,
      lastOutcome === "length"
        ? "raise --max-reply-tokens (maxReplyTokens) so a whole reply fits, or try another --model; the replies are in events.jsonl"
        : "the replies are in events.jsonl; try another --model, raise repairAttempts, or `azlon resume` the run",
    );
  }
}
