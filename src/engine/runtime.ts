import { readFileSync } from "node:fs";
import { join } from "node:path";
import type Docker from "dockerode";
import { z } from "zod";
import type { RuntimeFacts } from "../core/types.js";
import type { Owner } from "../sandbox/owner.js";
import { imageIdOf, probeImage } from "../sandbox/probe.js";
import { safeJson } from "../util/terminal.js";
import { writeFileAtomic } from "../workspace/run-folder.js";

/** What the model was told about the base image, in the run folder: a resumed run tells it the same. */
export const RUNTIME_FILE = "runtime.json";

const short = z.string().max(200);
const RuntimeCache = z.object({
  imageId: z.string(),
  facts: z.object({
    os: short.nullable(),
    arch: short.nullable(),
    user: short.nullable(),
    locale: short.nullable(),
    probed: z.boolean(),
    found: z.array(z.object({ name: short, version: short.nullable() })).max(20),
    pip: z.boolean().nullable(),
    versions: z.array(short).max(10),
  }),
});

function readCache(path: string, imageId: string): RuntimeFacts | null {
  try {
    const cached = RuntimeCache.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return cached.success && cached.data.imageId === imageId ? cached.data.facts : null;
  } catch {
    return null;
  }
}

/**
 * The base image's facts for the prompt, cached per image ID in the run folder (and, by the
 * probe, in this process). An image the engine lacks, or a probe that fails, means the prompt
 * says less: never an error.
 */
export async function runtimeFacts(
  docker: Docker,
  image: string,
  runDir: string,
  probe: { runId: string; owner: Owner; signal: AbortSignal },
): Promise<RuntimeFacts | null> {
  const imageId = await imageIdOf(docker, image);
  if (imageId === null) return null;
  const path = join(runDir, RUNTIME_FILE);
  const cached = readCache(path, imageId);
  if (cached) return cached;
  const facts = await probeImage(docker, imageId, probe);
  if (facts && !probe.signal.aborted) {
    try {
      writeFileAtomic(path, `${safeJson({ imageId, facts }, 2)}\n`);
    } catch {
      // Without the cache a resumed run probes again; nothing is lost.
    }
  }
  return facts;
}
