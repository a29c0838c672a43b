import { afterAll, beforeAll, beforeEach } from "vitest";
import { removeImage } from "./docker.js";
import { FakeOpenAI } from "./fake-openai.js";

/**
 * The fixture of an end-to-end file: a loopback OpenAI-compatible server for its tests (its
 * request log and fallback reset before each), and the final images they made, removed after.
 */
export function loopbackModel(): { server: FakeOpenAI; images: string[] } {
  const server = new FakeOpenAI();
  const images: string[] = [];
  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
    for (const image of images) await removeImage(image);
  });
  beforeEach(() => {
    server.requests.length = 0;
    server.fallback = null;
    server.clearQueue();
  });
  return { server, images };
}

/** `azlon run ... --json` against the loopback server, writing run folders to `out`. */
export function runArgs(
  server: FakeOpenAI,
  out: string,
  extra: string[] = [],
  task = { prompt: "a script that greets", tests: "it prints hello, world" },
): string[] {
  return [
    "run",
    "--prompt",
    task.prompt,
    "--tests",
    task.tests,
    "--model",
    "gpt-test",
    "--base-url",
    server.url,
    "--out",
    out,
    "--json",
    ...extra,
  ];
}
