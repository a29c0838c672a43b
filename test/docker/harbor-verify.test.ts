import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { harborVerifyCommand } from "../../src/batch/formats/harbor-verify.js";
import { describeDocker, docker } from "../helpers/docker.js";
import { BUSYBOX } from "../helpers/images.js";

/** This file's own label value: only its containers are removed after. */
const LABEL = { "azlon.test": `harbor-verify-${randomBytes(4).toString("hex")}` };

/**
 * Harbor's verifier as azlon runs it, in BusyBox (no bash, BusyBox's awk): for each reward file
 * a tests/test.sh writes, the check's exit code and what it printed.
 */
async function verify(
  rewards: Record<string, string>,
): Promise<Record<string, { code: number; log: string }>> {
  const cases = Object.entries(rewards).map(([name, write], i) =>
    [
      `rm -rf /azlon/checks && mkdir -p /azlon/checks`,
      `cat > /azlon/checks/test.sh <<'EOF_TEST'\nmkdir -p /logs/verifier\n${write}\nEOF_TEST`,
      `sh /verify.sh > /out-${i}.log 2>&1; echo "$?" > /code-${i}`,
      `echo "== ${name}"; echo "code $(cat /code-${i})"; cat /out-${i}.log`,
    ].join("\n"),
  );
  const script = `cat > /verify.sh <<'EOF_VERIFY'\n${harborVerifyCommand()}\nEOF_VERIFY\n${cases.join("\n")}\n`;
  const container = await docker.createContainer({
    Image: BUSYBOX,
    Cmd: ["sh", "-c", script],
    Tty: true,
    Labels: LABEL,
    HostConfig: { NetworkMode: "none" },
  });
  try {
    await container.start();
    await container.wait();
    const text = (await container.logs({ stdout: true, stderr: true })).toString("utf8").replace(/\r/g, "");
    const out: Record<string, { code: number; log: string }> = {};
    for (const part of text.split(/^== /m).slice(1)) {
      const [name = "", codeLine = "", ...rest] = part.split("\n");
      out[name] = { code: Number(codeLine.replace("code ", "")), log: rest.join("\n") };
    }
    return out;
  } finally {
    await container.remove({ force: true });
  }
}

describeDocker("Harbor's verifier in BusyBox: the reward decides", () => {
  it("a reward of 1 passes and 0.5 fails (reward.txt and reward.json); reward.json's reward, else its one value, as Harbor reads it", async () => {
    const r = await verify({
      "txt 1": "echo 1 > /logs/verifier/reward.txt",
      "txt 1.0": "echo 1.0 > /logs/verifier/reward.txt",
      "txt 0.5": "echo 0.5 > /logs/verifier/reward.txt",
      "txt words": "echo passed > /logs/verifier/reward.txt",
      "json reward 1": `echo '{"reward": 1}' > /logs/verifier/reward.json`,
      "json reward 0.5": `echo '{"reward": 0.5}' > /logs/verifier/reward.json`,
      "json reward 0.5 beside others at 1": `echo '{"quality": 1, "reward": 0.5}' > /logs/verifier/reward.json`,
      "json one other key at 1": `echo '{"accuracy": 1.0}' > /logs/verifier/reward.json`,
      "json one other key at 0.5": `echo '{"accuracy": 0.5}' > /logs/verifier/reward.json`,
      "json several keys, none reward": `echo '{"a": 1, "b": 1}' > /logs/verifier/reward.json`,
      "json no number": `echo '{}' > /logs/verifier/reward.json`,
      "no reward": "true",
    });
    const codes = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.code]));
    expect(codes).toEqual({
      "txt 1": 0,
      "txt 1.0": 0,
      "txt 0.5": 1,
      "txt words": 2,
      "json reward 1": 0,
      "json reward 0.5": 1,
      "json reward 0.5 beside others at 1": 1,
      "json one other key at 1": 0,
      "json one other key at 0.5": 1,
      // Harbor takes a reward.json's "reward", else its only value, and refuses several unnamed ones.
      "json several keys, none reward": 2,
      "json no number": 2,
      "no reward": 1,
    });
    expect(r["txt 0.5"]?.log).toContain("reward.txt: 0.5");
    expect(r["json several keys, none reward"]?.log).toContain(
      'azlon: reward.json holds several rewards and none named "reward"',
    );
    expect(r["no reward"]?.log).toContain("wrote no reward to /logs/verifier/reward.txt or reward.json");
  });
});
