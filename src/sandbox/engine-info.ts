/** What kind of engine azlon talks to, and what it can build with. */
export interface EngineInfo {
  /** "Docker" or "Podman" (or the engine's own name for another). */
  name: string;
  version: string;
  apiVersion: string;
  /** Whether the engine builds with BuildKit through its API (`version=2`). */
  buildKit: boolean;
  /** Whether its BuildKit reads here-documents (`RUN <<EOF`): Docker 23 and later. */
  hereDocuments: boolean;
}

interface VersionReply {
  Version?: string;
  ApiVersion?: string;
  Os?: string;
  Components?: Array<{ Name?: string; Version?: string }>;
}

/** The engine's kind from its /version reply: Podman names itself; Docker's engine is "Engine". */
export function engineInfoOf(reply: VersionReply): EngineInfo {
  const names = (reply.Components ?? []).map((c) => c.Name ?? "");
  const podman = names.some((n) => /podman/i.test(n));
  const [major = 0, minor = 0] = (reply.ApiVersion ?? "0.0").split(".").map(Number);
  return {
    name: podman ? "Podman" : "Docker",
    version: reply.Version ?? "unknown",
    apiVersion: reply.ApiVersion ?? "unknown",
    // Docker's API builds with BuildKit since 1.39 (18.09) on Linux; Podman builds with Buildah.
    buildKit: !podman && (reply.Os ?? "linux") === "linux" && (major > 1 || (major === 1 && minor >= 39)),
    // Docker 23 built in the Dockerfile 1.4 syntax; older engines need `# syntax=`, from a registry.
    hereDocuments: !podman && Number((reply.Version ?? "0").split(".")[0]) >= 23,
  };
}

/** The builder a Dockerfile gets: BuildKit where it needs it (or is asked for) and the engine has it. */
export type BuilderMode = "auto" | "classic" | "buildkit";
