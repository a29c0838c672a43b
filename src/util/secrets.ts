/** Names of environment variables whose values azlon treats as secrets. */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL/i;
/** Shorter values are too likely to occur by chance (a "1", a "true") to be masked. */
const MIN_SECRET_LENGTH = 6;
export const MASK = "[secret]";

/**
 * Query parameters whose values are credentials: Azure's `api-key`, Google's `key`, a SAS
 * `sig`, an Azure Functions `code`, any `token`. Over-masking a harmless one costs nothing.
 */
const SECRET_QUERY_NAME = /key|token|secret|pass(word|wd)?|credential|sig|auth|code/i;

/**
 * The values of secret-looking environment variables (and of secret query parameters in any
 * URL they hold, such as OPENAI_BASE_URL=...?api-key=...), plus any extra secrets given.
 */
export function collectSecrets(env: Record<string, string | undefined>, extra: string[] = []): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value && SECRET_NAME.test(name)) values.add(value.trim());
    if (value && /^https?:\/\//i.test(value.trim())) {
      for (const secret of urlQuerySecrets(value.trim())) values.add(secret);
    }
  }
  for (const value of extra) if (value) values.add(value.trim());
  return [...values].filter((v) => v.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** True when a URL carries a user name or password (https://user:pass@host). */
export function hasUrlCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== "" || parsed.password !== "";
  } catch {
    return false;
  }
}

/**
 * The values of a URL's secret query parameters, as written and decoded (a message may quote
 * either), for the redactor to mask wherever they turn up.
 */
export function urlQuerySecrets(url: string): string[] {
  const query = url.split("#")[0]?.split("?").slice(1).join("?") ?? "";
  const values: string[] = [];
  for (const pair of query.split("&")) {
    const at = pair.indexOf("=");
    if (at <= 0 || !SECRET_QUERY_NAME.test(decodeSafely(pair.slice(0, at)))) continue;
    const raw = pair.slice(at + 1);
    if (raw === "" || raw === MASK) continue;
    values.push(raw, decodeSafely(raw.replace(/\+/g, " ")));
  }
  return [...new Set(values)];
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A query parameter in a message: a value ends at what ends a URL in prose (a bracket, a
 * comma); one masked already is left as it is, so masking twice changes nothing.
 */
const QUERY_PARAM = /([?&])([^=&#\s]+)=(\[secret\]|[^&#\s)\],;]*)/g;

/** The query of one URL with the values of its secret parameters masked. */
function maskQuery(query: string): string {
  return query.replace(QUERY_PARAM, (whole, sep: string, name: string, value: string) =>
    value !== "" && SECRET_QUERY_NAME.test(decodeSafely(name)) ? `${sep}${name}=${MASK}` : whole,
  );
}

/**
 * Masks the credentials of URLs in text: the user:password part (https://user:pw@host) and
 * the values of secret query parameters (https://host/v1?api-key=...).
 */
export function maskUrlSecrets(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, `$1${MASK}@`)
    .replace(
      /\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>]*(\?[^\s#"'<>]*)/gi,
      (url, query: string) => url.slice(0, url.length - query.length) + maskQuery(query),
    );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Masks known secret values in text; also the userinfo of URLs (https://user:pass@host). */
export class Redactor {
  private readonly pattern: RegExp | null;
  readonly longest: number;

  /**
   * `masks` gives some values a mask of their own (the lines of held-out checks are shown as
   * "[hidden check line]", not as secrets); the rest get MASK.
   */
  constructor(
    readonly secrets: readonly string[],
    private readonly masks: ReadonlyMap<string, string> = new Map(),
  ) {
    // Longest first: the alternation takes the first that matches, and a secret that contains
    // another must be masked whole, not leave its end showing.
    const ordered = [...secrets].sort((a, b) => b.length - a.length);
    this.pattern = ordered.length ? new RegExp(ordered.map(escapeRegExp).join("|"), "g") : null;
    this.longest = secrets.reduce((max, s) => Math.max(max, s.length), 0);
  }

  static none(): Redactor {
    return new Redactor([]);
  }

  /** This redactor, also masking each of `values` (of at least the minimum length) with `mask`. */
  with(values: readonly string[], mask: string): Redactor {
    const masks = new Map(this.masks);
    for (const value of values)
      if (value.length >= MIN_SECRET_LENGTH && !this.secrets.includes(value)) masks.set(value, mask);
    return new Redactor(
      [...this.secrets, ...masks.keys()].filter((v, i, all) => all.indexOf(v) === i),
      masks,
    );
  }

  /** Masks the known secret values (what is stored: logs, journal, run.json). */
  redact(text: string): string {
    return this.maskSecrets(text);
  }

  /**
   * Masks the secrets and any credentials in URLs (https://user:pass@host, ?api-key=...), for
   * messages about azlon's own settings. Not for project files or program output, where such
   * URLs are ordinary text (amqp://guest:guest@localhost) that the project needs intact.
   */
  redactMessage(text: string): string {
    return maskUrlSecrets(this.maskSecrets(text));
  }

  /** Masks only the known secret values. */
  maskSecrets(text: string): string {
    if (!this.pattern) return text;
    return this.masks.size
      ? text.replace(this.pattern, (m) => this.masks.get(m) ?? MASK)
      : text.replace(this.pattern, MASK);
  }

  /** Redacts every string inside a JSON-like value. */
  redactDeep<T>(value: T): T {
    if (typeof value === "string") return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }

  /** A redactor for text that arrives in pieces, where a secret may straddle two pieces. */
  stream(): StreamRedactor {
    return new StreamRedactor(this);
  }

  /** @internal */
  matches(text: string): Array<{ start: number; end: number }> {
    if (!this.pattern) return [];
    const found: Array<{ start: number; end: number }> = [];
    for (const m of text.matchAll(this.pattern)) found.push({ start: m.index, end: m.index + m[0].length });
    return found;
  }
}

/**
 * Holds back just enough of the text to be sure no secret is cut in two: anything that
 * starts more than `longest - 1` characters before the end is complete and can be released.
 */
export class StreamRedactor {
  private carry = "";
  constructor(private readonly redactor: Redactor) {}

  push(text: string): string {
    const longest = this.redactor.longest;
    if (longest === 0) return text;
    const all = this.carry + text;
    let cut = Math.max(0, all.length - (longest - 1));
    for (const m of this.redactor.matches(all)) {
      if (m.start < cut && m.end > cut) cut = m.end;
    }
    // Never release half of a surrogate pair: encoded alone, each half would become U+FFFD.
    const last = all.charCodeAt(cut - 1);
    if (cut > 0 && cut < all.length && last >= 0xd800 && last <= 0xdbff) cut--;
    this.carry = all.slice(cut);
    return this.redactor.maskSecrets(all.slice(0, cut));
  }

  flush(): string {
    const rest = this.carry;
    this.carry = "";
    return this.redactor.maskSecrets(rest);
  }
}
