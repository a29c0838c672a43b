import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { closeServer, listenLoopback } from "./http-server.js";

/** One request the server received, parsed. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** The query string, without the "?" ("" when there is none). */
  query: string;
  headers: IncomingMessage["headers"];
  body: ChatBody | null;
}

export interface ChatBody {
  model: string;
  messages: Array<{ role: string; content: string }>;
  response_format?: { type: string; json_schema?: { name: string; strict?: boolean; schema: unknown } };
  [key: string]: unknown;
}

/** What the server answers to one chat completion request. */
export interface Reply {
  /** The message content; objects are sent as JSON text. */
  content?: unknown;
  refusal?: string;
  finishReason?: "stop" | "length" | "content_filter";
  usage?: { prompt: number; completion: number; cached?: number };
  /** An HTTP error instead of a completion. */
  status?: number;
  error?: { message: string; type?: string; code?: string };
  headers?: Record<string, string>;
  delayMs?: number;
  /** Answer only once this settles: a reply held open for as long as a test needs. */
  hold?: Promise<unknown>;
  /** Close the connection without an answer. */
  hangUp?: boolean;
  /** Answer 200 with this body and content type instead of a completion (a wrong server). */
  raw?: { contentType: string; body: string };
  /** Send the headers and half the body, then nothing more for this long (a stalled server). */
  stallBodyMs?: number;
  /**
   * Send the headers and half the body, then end the connection: "reset" (TCP RST, as a
   * crashed server) or "close" (a clean FIN before the declared length, as a killed proxy).
   */
  cutBody?: "reset" | "close";
  /** The model the server says it served; by default the one requested. */
  servedModel?: string;
}

export type Script = Reply | ((request: RecordedRequest, index: number) => Reply);

/**
 * A real HTTP server on loopback that speaks the OpenAI Chat Completions API, replaying the
 * replies it is given, in order, and recording every request. azlon talks to it through the
 * real openai SDK, exactly as it would to OpenAI, Ollama or vLLM.
 */
export class FakeOpenAI {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: Script[] = [];
  private server: Server | null = null;
  private chatCount = 0;
  /** Used when the queue is empty; by default an error that names the problem. */
  fallback: Script | null = null;
  models = ["gpt-test", "gpt-4.1-mini"];
  /** When set, GET /models sends its headers and half its body, then stalls this long. */
  modelsStallMs: number | null = null;
  /** When set, GET /props (at the server's root, as llama-server has it) answers this. */
  props: unknown = null;
  /** When set, requests without "Authorization: Bearer <key>" get a 401. */
  requiredKey: string | null = null;
  url = "";

  enqueue(...scripts: Script[]): this {
    this.queue.push(...scripts);
    return this;
  }

  get chatRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith("/chat/completions"));
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Drops the replies a test scripted and did not use, so they cannot answer the next test. */
  clearQueue(): void {
    this.queue.length = 0;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: String(error) } }));
      });
    });
    const port = await listenLoopback(this.server);
    this.url = `http://127.0.0.1:${port}/v1`;
    return this.url;
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const [path = "", ...query] = (req.url ?? "").split("?");
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      query: query.join("?"),
      headers: req.headers,
      body: text ? (JSON.parse(text) as ChatBody) : null,
    };
    this.requests.push(recorded);

    if (this.requiredKey && req.headers.authorization !== `Bearer ${this.requiredKey}`) {
      return this.json(res, 401, {
        error: {
          message: "Incorrect API key provided.",
          type: "invalid_request_error",
          code: "invalid_api_key",
        },
      });
    }
    if (path === "/props" && req.method === "GET" && this.props !== null) {
      return this.json(res, 200, this.props);
    }
    if (path.endsWith("/models") && req.method === "GET") {
      const list = {
        object: "list",
        data: this.models.map((id) => ({ id, object: "model", created: 0, owned_by: "test" })),
      };
      if (this.modelsStallMs !== null) {
        const text = Buffer.from(JSON.stringify(list));
        res.writeHead(200, { "content-type": "application/json", "content-length": String(text.length) });
        res.write(text.subarray(0, Math.floor(text.length / 2)));
        const timer = setTimeout(
          () => res.end(text.subarray(Math.floor(text.length / 2))),
          this.modelsStallMs,
        );
        res.on("close", () => clearTimeout(timer));
        return;
      }
      return this.json(res, 200, list);
    }
    if (!path.endsWith("/chat/completions")) {
      return this.json(res, 404, { error: { message: `no route ${path}` } });
    }

    const index = this.chatCount++;
    const script = this.queue.shift() ?? this.fallback;
    if (!script) {
      return this.json(res, 500, {
        error: { message: `fake-openai: no scripted reply left for request #${index + 1}` },
      });
    }
    const reply = typeof script === "function" ? script(recorded, index) : script;
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (reply.hold) await reply.hold.catch(() => {});
    if (reply.hangUp) {
      req.socket.destroy();
      return;
    }
    if (reply.raw) {
      res.writeHead(200, { "content-type": reply.raw.contentType });
      res.end(reply.raw.body);
      return;
    }
    if (reply.status && reply.status >= 400) {
      return this.json(
        res,
        reply.status,
        { error: reply.error ?? { message: `scripted ${reply.status}`, type: "server_error" } },
        reply.headers,
      );
    }
    const content =
      reply.content === undefined
        ? null
        : typeof reply.content === "string"
          ? reply.content
          : JSON.stringify(reply.content);
    const usage = reply.usage ?? { prompt: 100, completion: 50, cached: 0 };
    return this.json(
      res,
      200,
      {
        id: `chatcmpl-${index}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: reply.servedModel ?? recorded.body?.model ?? "unknown",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content, refusal: reply.refusal ?? null },
            finish_reason: reply.finishReason ?? "stop",
            logprobs: null,
          },
        ],
        usage: {
          prompt_tokens: usage.prompt,
          completion_tokens: usage.completion,
          total_tokens: usage.prompt + usage.completion,
          prompt_tokens_details: { cached_tokens: usage.cached ?? 0 },
        },
      },
      reply.headers,
      reply,
      res.req.socket,
    );
  }

  private json(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    reply: Reply = {},
    socket: Socket | null = null,
  ): void {
    const text = Buffer.from(JSON.stringify(body));
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": String(text.length),
      ...headers,
    });
    if (reply.stallBodyMs === undefined && reply.cutBody === undefined) {
      res.end(text);
      return;
    }
    // Half the body, flushed, so the client has its headers and some bytes.
    res.write(text.subarray(0, Math.floor(text.length / 2)));
    if (reply.stallBodyMs !== undefined) {
      const timer = setTimeout(() => res.end(text.subarray(Math.floor(text.length / 2))), reply.stallBodyMs);
      res.on("close", () => clearTimeout(timer));
      return;
    }
    setTimeout(() => {
      if (reply.cutBody === "reset") socket?.resetAndDestroy();
      else socket?.end();
    }, 50);
  }
}

/** A generation reply. */
export function generation(dockerfile: string, files: Record<string, string>, plan = "plan"): Reply {
  return {
    content: { plan, dockerfile, files: Object.entries(files).map(([path, content]) => ({ path, content })) },
  };
}

/** A passing verdict quoting these lines of the output. */
export function pass(evidence: string[], reason = "all conditions hold"): Reply {
  return { content: { passed: true, reason, evidence, dockerfile: null, files: null, delete: null } };
}

/** A failing verdict with a fix. */
export function fail(
  reason: string,
  fix: {
    dockerfile?: string;
    files?: Record<string, string>;
    edits?: Array<{ path: string; search: string; replace: string }>;
    delete?: string[];
  } = {},
  evidence: string[] = [],
): Reply {
  return {
    content: {
      passed: false,
      reason,
      evidence,
      dockerfile: fix.dockerfile ?? null,
      files: fix.files ? Object.entries(fix.files).map(([path, content]) => ({ path, content })) : null,
      edits: fix.edits ?? null,
      delete: fix.delete ?? null,
    },
  };
}

/** The text of the last user message of a request: where the changing part of a prompt is. */
export function lastUserMessage(request: RecordedRequest | undefined): string {
  const messages = request?.body?.messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === "user") return messages[i]?.content ?? "";
  }
  return "";
}
