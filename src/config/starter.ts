import { DEFAULTS } from "./defaults.js";

/** What `azlon init` asks for or takes from its flags; the rest is DEFAULTS. */
export interface StarterValues {
  model: string;
  /** The user's file only: a project's may not choose the endpoint the key goes to. */
  baseUrl?: string | null;
  /** One check command, or none. */
  check?: string | null;
}

/** A YAML scalar: plain when it reads back as the same string, else JSON's quoting (valid YAML). */
export function yamlString(value: string): string {
  return /^[A-Za-z0-9_./][\w./:@+-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|~)$/i.test(value)
    ? value
    : JSON.stringify(value);
}

const v = (value: unknown) => (value === null ? "null" : String(value));

/**
 * A commented starter config: the model, the limits, the checks and the budgets, with
 * DEFAULTS' values. `place` is "project" (.azlonrc.yaml, the folder's: no endpoint, nothing the
 * trust rules refuse to a config azlon finds) or "user" (~/.config/azlon/config.yaml, trusted:
 * the endpoint goes there).
 */
export function starterConfig(values: StarterValues, place: "project" | "user"): string {
  const d = DEFAULTS;
  const head =
    place === "project"
      ? [
          "# azlon's settings for this project, written by `azlon init`: runs started in this folder",
          "# (or below it) use them. Flags beat environment variables, which beat this file, which",
          "# beats your own ~/.config/azlon/config.yaml. Every key is in docs/configuration.md.",
          "#",
          "# azlon reads this file as the folder's, not yours, so anyone who clones the project gets",
          "# it: it may set the model, limits, checks and budgets, but not the endpoint your API key",
          "# goes to (yours: `azlon init --global --base-url URL`, or OPENAI_BASE_URL), the network",
          "# while the program runs, or prices, unless you pass --trust-config.",
          "",
          "# The model (AZLON_MODEL or --model beats it).",
          `model: ${yamlString(values.model)}`,
        ]
      : [
          "# Your own azlon settings, for every project, written by `azlon init --global`. A project's",
          "# .azlonrc.yaml beats them; environment variables and flags beat both. Every key is in",
          "# docs/configuration.md. The API key is never here: azlon reads OPENAI_API_KEY.",
          "",
          "# The model, and the OpenAI-compatible endpoint that serves it (null: OpenAI itself), e.g.",
          "# http://localhost:11434/v1 (Ollama), http://localhost:8080/v1 (llama.cpp's llama-server).",
          "# AZLON_MODEL and OPENAI_BASE_URL beat them.",
          `model: ${yamlString(values.model)}`,
          `baseUrl: ${values.baseUrl ? yamlString(values.baseUrl) : "null"}`,
        ];
  const check = values.check
    ? ["checks:", `  - ${yamlString(values.check)}`]
    : ["checks: []", "#  - python3 /azlon/checks/test_app.py"];
  return `${[
    ...head,
    "",
    "# Rounds of build, run and judge before giving up.",
    `maxIterations: ${d.maxIterations}`,
    "",
    "# Limits of every container azlon runs; the model is told them.",
    `runTimeout: ${d.runTimeout}        # seconds the program may run`,
    `buildTimeout: ${d.buildTimeout}      # seconds an image build may take`,
    `memory: ${d.memory}             # memory, no swap: 512m, 2g, ...`,
    `cpus: ${d.cpus}                # CPUs`,
    `pids: ${d.pids}              # processes and threads`,
    `network: ${d.network}          # the program runs without a network; builds have one`,
    "",
    "# Your checks: shell commands run in a fresh container of the built image after the",
    "# program; each must exit 0. checksDir (relative to the folder azlon runs in) is copied to",
    "# /azlon/checks in every check container, out of the model's reach.",
    ...check,
    `checksDir: ${v(d.checksDir)}        # e.g. tests/azlon`,
    `verdict: ${v(d.verdict)}          # who decides a pass: checks, judge or both (null: both with checks)`,
    "",
    "# Budgets: the run stops cleanly at the first it reaches (null: no limit).",
    `maxTokens: ${v(d.maxTokens)}        # prompt + completion tokens over the whole run`,
    `maxCost: ${v(d.maxCost)}          # US dollars, by azlon's price table (a model it has no price for: no cost)`,
    `maxTime: ${v(d.maxTime)}          # seconds over the whole run`,
  ].join("\n")}\n`;
}
