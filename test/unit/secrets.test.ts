import { describe, expect, it } from "vitest";
import { collectSecrets, MASK, Redactor } from "../../src/util/secrets.js";

describe("collectSecrets", () => {
  it("picks the values of variables named like keys, tokens, secrets and passwords", () => {
    const secrets = collectSecrets({
      OPENAI_API_KEY: "sk-proj-abcdef123456",
      GITHUB_TOKEN: "ghp_0123456789",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG",
      DB_PASSWORD: "hunter2hunter2",
      registry_credential: "lowercase-name-too",
      HOME: "/home/someone",
      PATH: "/usr/bin:/bin",
      EDITOR: "vim-is-fine",
    });
    expect(secrets.sort()).toEqual(
      [
        "sk-proj-abcdef123456",
        "ghp_0123456789",
        "wJalrXUtnFEMI/K7MDENG",
        "hunter2hunter2",
        "lowercase-name-too",
      ].sort(),
    );
  });

  it("ignores values too short to be masked safely, and empty ones", () => {
    expect(
      collectSecrets({ SHORT_KEY: "abc", FLAG_TOKEN: "1", EMPTY_SECRET: "", UNSET_KEY: undefined }),
    ).toEqual([]);
    expect(collectSecrets({ SIX_KEY: "abcdef" })).toEqual(["abcdef"]);
    expect(collectSecrets({ PADDED_KEY: "  abc  " })).toEqual([]);
  });

  it("adds the extra secrets (the API key given by other means), trimmed and without duplicates", () => {
    expect(collectSecrets({ API_KEY: "sk-same-value" }, [" sk-same-value\n", "another-secret", ""])).toEqual([
      "another-secret",
      "sk-same-value",
    ]);
  });

  it("lists the longest first, so a secret containing another is masked whole", () => {
    const secrets = collectSecrets({ A_KEY: "abcdef", B_KEY: "abcdefghijkl", C_KEY: "abcdefgh" });
    expect(secrets).toEqual(["abcdefghijkl", "abcdefgh", "abcdef"]);
    expect(new Redactor(secrets).redact("x abcdefghijkl y")).toBe(`x ${MASK} y`);
  });
});

describe("Redactor", () => {
  const redactor = new Redactor(["sk-live-123456", "p@ss.w*rd+(1)"]);

  it("masks every occurrence of every secret", () => {
    expect(redactor.redact("key=sk-live-123456 again sk-live-123456, pw=p@ss.w*rd+(1)")).toBe(
      `key=${MASK} again ${MASK}, pw=${MASK}`,
    );
  });

  it("treats secrets literally, not as patterns", () => {
    expect(redactor.redact("p@ssXw*rd+(1) p@ss.wwwrd+(1)")).toBe("p@ssXw*rd+(1) p@ss.wwwrd+(1)");
  });

  it("leaves URLs in stored text alone (projects need amqp://guest:guest@host intact)", () => {
    expect(Redactor.none().redact("amqp://guest:guest@localhost:5672")).toBe(
      "amqp://guest:guest@localhost:5672",
    );
  });

  it("masks the userinfo of URLs in messages, even for unknown secrets", () => {
    expect(Redactor.none().redactMessage("clone https://bob:hunter2@git.example.com/repo.git now")).toBe(
      `clone https://${MASK}@git.example.com/repo.git now`,
    );
    expect(Redactor.none().redactMessage("postgres://app:pw@db:5432/app")).toBe(
      `postgres://${MASK}@db:5432/app`,
    );
    expect(Redactor.none().redactMessage("see https://example.com/a@b and user@example.com")).toBe(
      "see https://example.com/a@b and user@example.com",
    );
  });

  it("masks the secret even when the constructor is given shorter secrets first", () => {
    expect(new Redactor(["abcdef", "abcdefghij"]).redact("abcdefghij")).toBe(MASK);
  });

  it("with no secrets, leaves text as it is", () => {
    expect(Redactor.none().redact("nothing to hide")).toBe("nothing to hide");
  });

  it("redacts strings anywhere in a JSON-like value, leaving other values alone", () => {
    expect(
      redactor.redactDeep({ a: "sk-live-123456", list: ["x", "p@ss.w*rd+(1)"], n: 3, ok: true, none: null }),
    ).toEqual({ a: MASK, list: ["x", MASK], n: 3, ok: true, none: null });
  });
});

describe("StreamRedactor", () => {
  const secretA = "sk-abcdefghijklmnop";
  const secretB = "tok_1234567";
  const redactor = new Redactor([secretA, secretB]);
  const text = `start ${secretA} middle ${secretB}${secretB} ${secretA}end`;
  const oneShot = redactor.maskSecrets(text);

  function streamed(pieces: string[]): string {
    const stream = redactor.stream();
    return pieces.map((p) => stream.push(p)).join("") + stream.flush();
  }

  it("the one-shot redaction hides every secret", () => {
    expect(oneShot).toBe(`start ${MASK} middle ${MASK}${MASK} ${MASK}end`);
  });

  it("gives the one-shot result for a split at every position", () => {
    for (let i = 0; i <= text.length; i++) {
      expect(streamed([text.slice(0, i), text.slice(i)]), `split at ${i}`).toBe(oneShot);
    }
  });

  it("gives the one-shot result for every pair of split positions", () => {
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        const out = streamed([text.slice(0, i), text.slice(i, j), text.slice(j)]);
        if (out !== oneShot) expect(out, `split at ${i} and ${j}`).toBe(oneShot);
      }
    }
  });

  it("gives the one-shot result one character at a time", () => {
    expect(streamed([...text])).toBe(oneShot);
  });

  it("never releases part of a secret before the rest arrives", () => {
    const stream = redactor.stream();
    let released = "";
    for (const ch of text) {
      released += stream.push(ch);
      // Whatever came out so far must not end in the start of a secret.
      for (const secret of [secretA, secretB]) {
        for (let k = 4; k < secret.length; k++) expect(released.endsWith(secret.slice(0, k))).toBe(false);
      }
    }
  });

  it("holds back no more than a secret's length, so output still flows", () => {
    const stream = redactor.stream();
    const out = stream.push("x".repeat(1000));
    expect(out.length).toBeGreaterThanOrEqual(1000 - secretA.length);
    expect(stream.flush().length).toBeLessThan(secretA.length);
  });

  it("gives the one-shot result when one secret begins another, at every split", () => {
    const nested = new Redactor(["abcdef", "abcdefghij", "cdefgh"]);
    const input = "x abcdef abcdefghij abcdefg cdefghij abcdabcdefghijk y";
    const expected = nested.maskSecrets(input);
    expect(expected).not.toMatch(/abcdef|cdefgh/);
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) {
        const stream = nested.stream();
        const out =
          stream.push(input.slice(0, i)) +
          stream.push(input.slice(i, j)) +
          stream.push(input.slice(j)) +
          stream.flush();
        if (out !== expected) expect(out, `split at ${i} and ${j}`).toBe(expected);
      }
    }
  });

  it("never releases half of an emoji (a surrogate pair) on its own", () => {
    const input = "😀a😀bb😀ccc😀dddd😀";
    for (let size = 1; size <= 4; size++) {
      const stream = new Redactor(["x".repeat(size + 5)]).stream();
      const released: string[] = [];
      for (const ch of input) released.push(stream.push(ch));
      released.push(stream.flush());
      for (const piece of released) {
        expect(Buffer.from(piece).toString("utf8"), JSON.stringify(piece)).toBe(piece);
      }
      expect(released.join("")).toBe(input);
    }
  });

  it("passes text straight through when there are no secrets", () => {
    const stream = Redactor.none().stream();
    expect(stream.push("abc")).toBe("abc");
    expect(stream.flush()).toBe("");
  });
});
