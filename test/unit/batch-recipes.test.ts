import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { Job } from "kubernetes-models/batch/v1";
import { PersistentVolumeClaim } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseShard } from "../../src/batch/shard.js";
import { ROOT } from "../helpers/cli.js";

// biome-ignore lint/suspicious/noExplicitAny: the recipes are read as the YAML they are
type Doc = any;
const read = (path: string): Doc[] => yaml.loadAll(readFileSync(join(ROOT, "docs", path), "utf8")) as Doc[];

/** The --shard the shell of pod `index` would pass, from the manifest's own command line. */
function shardOfPod(command: string, index: number): string {
  const expr = /shard=\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)/.exec(command);
  expect(expr, "the command maps JOB_COMPLETION_INDEX to a 1-based shard").not.toBeNull();
  const total = /--shard "\$shard\/(\d+)"/.exec(command)?.[1];
  return `${index + 1}/${total}`;
}

describe("the Kubernetes Indexed Job recipe (docs/k8s)", () => {
  const docs = read("k8s/batch-indexed-job.yaml");

  it("is valid by the Kubernetes schemas (kubernetes-models)", () => {
    for (const doc of docs) {
      if (doc.kind === "Job") new Job(doc).validate();
      else if (doc.kind === "PersistentVolumeClaim") new PersistentVolumeClaim(doc).validate();
      else throw new Error(`an unexpected kind ${doc.kind}`);
    }
    expect(docs.map((d) => d.kind)).toEqual(["PersistentVolumeClaim", "Job", "Job"]);
  });

  it("runs one shard per index, every index a valid 1-based shard, with Docker beside azlon", () => {
    const job = docs.find((d) => d.metadata.name === "azlon-batch");
    expect(job.spec.completionMode).toBe("Indexed");
    expect(job.spec.parallelism).toBe(job.spec.completions);
    const pod = job.spec.template.spec;
    const azlon = pod.containers.find((c: Doc) => c.name === "azlon");
    const command = azlon.args.join(" ");
    const shards = Array.from({ length: job.spec.completions }, (_, i) => shardOfPod(command, i));
    expect(shards.map((s) => parseShard(s))).toEqual(
      Array.from({ length: job.spec.completions }, (_, i) => ({ index: i + 1, total: job.spec.completions })),
    );
    // The engine: a native sidecar (an init container that keeps running), privileged, answered at localhost.
    const docker = pod.initContainers.find((c: Doc) => c.name === "docker");
    expect(docker.restartPolicy).toBe("Always");
    expect(docker.securityContext.privileged).toBe(true);
    expect(azlon.env).toContainEqual({ name: "DOCKER_HOST", value: "tcp://localhost:2375" });
    expect(docker.env).toContainEqual({ name: "DOCKER_TLS_CERTDIR", value: "" });
    // Each shard writes its own folder on the shared volume; the merge job reads them all.
    expect(command).toContain('--out "/batches/shard-$shard"');
    const merge = docs.find((d) => d.metadata.name === "azlon-batch-merge");
    const merged = merge.spec.template.spec.containers[0].args.join(" ");
    for (const s of shards) expect(merged).toContain(`/batches/shard-${s.split("/")[0]}`);
  });
});

describe("the CI recipes (docs/ci)", () => {
  it("GitHub Actions: a matrix of every shard 1..n, merged after", () => {
    const [wf] = read("ci/github-actions-batch.yml");
    const shards: number[] = wf.jobs.shard.strategy.matrix.shard;
    expect(shards).toEqual(shards.map((_, i) => i + 1));
    const run = wf.jobs.shard.steps.map((s: Doc) => s.run ?? "").join("\n");
    expect(run).toContain(`--shard \${{ matrix.shard }}/${shards.length}`);
    expect(wf.jobs.shard.strategy["fail-fast"]).toBe(false);
    const merge = wf.jobs.merge.steps.map((s: Doc) => s.run ?? "").join("\n");
    expect(merge).toContain(`azlon batch merge ${shards.map((s) => `shard-${s}`).join(" ")} --out merged`);
  });

  it("GitLab: parallel: n with CI_NODE_INDEX/CI_NODE_TOTAL, Docker as a service", () => {
    const [ci] = read("ci/gitlab-ci-batch.yml");
    expect(ci["azlon-batch"].parallel).toBeGreaterThan(1);
    expect(ci["azlon-batch"].script.join("\n")).toContain('--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"');
    expect(ci["azlon-batch"].variables.DOCKER_HOST).toBe("tcp://docker:2375");
    expect(ci["azlon-merge"].script.join("\n")).toContain("azlon batch merge shard-* --out merged");
  });
});
