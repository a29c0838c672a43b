import protobuf from "protobufjs";

/**
 * The part of BuildKit's StatusResponse (moby.buildkit.v1) azlon reads: the steps (vertexes),
 * their output (logs) and warnings. Inline, so the single executable needs no .proto file.
 */
const DESCRIPTOR = {
  nested: {
    StatusResponse: {
      fields: {
        vertexes: { rule: "repeated", type: "Vertex", id: 1 },
        logs: { rule: "repeated", type: "VertexLog", id: 3 },
        warnings: { rule: "repeated", type: "VertexWarning", id: 4 },
      },
    },
    Vertex: {
      fields: {
        digest: { type: "string", id: 1 },
        name: { type: "string", id: 3 },
        cached: { type: "bool", id: 4 },
        started: { type: "Timestamp", id: 5 },
        completed: { type: "Timestamp", id: 6 },
        error: { type: "string", id: 7 },
      },
    },
    VertexLog: {
      fields: {
        vertex: { type: "string", id: 1 },
        stream: { type: "int64", id: 3 },
        msg: { type: "bytes", id: 4 },
      },
    },
    VertexWarning: {
      fields: {
        vertex: { type: "string", id: 1 },
        short: { type: "bytes", id: 3 },
      },
    },
    Timestamp: { fields: { seconds: { type: "int64", id: 1 }, nanos: { type: "int32", id: 2 } } },
  },
};

interface Vertex {
  digest?: string;
  name?: string;
  cached?: boolean;
  started?: object;
  completed?: object;
  error?: string;
}
interface Status {
  vertexes?: Vertex[];
  logs?: Array<{ vertex?: string; msg?: Uint8Array }>;
  warnings?: Array<{ vertex?: string; short?: Uint8Array }>;
}

let type: protobuf.Type | null = null;

/**
 * Turns BuildKit's progress (base64 protobuf in each `moby.buildkit.trace` event) into the plain
 * lines the classic builder prints: each step when it starts, its output, CACHED, and the error.
 * One per build: it remembers which steps it has announced.
 */
export class BuildKitLog {
  private readonly announced = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly names = new Map<string, string>();
  /** The first error a step reported, for the build's last line. */
  error: string | null = null;

  /** The lines of one trace event's payload. */
  lines(aux: string): string[] {
    type ??= protobuf.Root.fromJSON(DESCRIPTOR).lookupType("StatusResponse");
    let status: Status;
    try {
      status = type.toObject(type.decode(Buffer.from(aux, "base64")), { defaults: false }) as Status;
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const v of status.vertexes ?? []) {
      const id = v.digest ?? "";
      if (v.name) this.names.set(id, v.name);
      const name = this.names.get(id) ?? id.slice(7, 19);
      // BuildKit's own bookkeeping steps ([internal] load ...) say nothing a model can use.
      const internal = name.startsWith("[internal]");
      if (v.started && !this.announced.has(id) && !internal) {
        this.announced.add(id);
        out.push(`#${this.announced.size} ${name}`);
      }
      if (v.completed && !this.finished.has(id)) {
        this.finished.add(id);
        if (v.cached && !internal) out.push(`#${this.stepOf(id)} CACHED`);
        if (v.error) {
          this.error ??= v.error;
          out.push(`#${this.stepOf(id)} ERROR: ${v.error}`);
        }
      }
    }
    for (const log of status.logs ?? []) {
      const text = Buffer.from(log.msg ?? new Uint8Array()).toString("utf8");
      for (const line of text.split("\n"))
        if (line.trim()) out.push(`#${this.stepOf(log.vertex ?? "")} ${line.trimEnd()}`);
    }
    for (const warning of status.warnings ?? []) {
      out.push(`WARNING: ${Buffer.from(warning.short ?? new Uint8Array()).toString("utf8")}`);
    }
    return out;
  }

  /** A step's number as the lines name it (in the order steps started). */
  private stepOf(id: string): number | string {
    let n = 0;
    for (const seen of this.announced) {
      n++;
      if (seen === id) return n;
    }
    return "?";
  }
}
