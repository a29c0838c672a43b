/**
 * Harbor's verifier as one azlon check: tests/ (copied by azlon to /azlon/checks) goes to
 * /tests, as Harbor uploads it; tests/test.sh runs; the reward it writes to
 * /logs/verifier/reward.txt (else reward.json) decides, and a reward of 1 or more passes.
 */

/** Where Harbor's verifier writes its reward. */
export const REWARD_DIR = "/logs/verifier";

/** A variable name a shell takes. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Single-quoted for sh: nothing inside is expanded. */
function quoted(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// The first number of reward.txt (Harbor writes "1", "0", "0.75"); anything else is no reward.
const TEXT_REWARD = `awk 'NF && v == "" { v = $1 } END { if (v !~ /^[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?$/) { print "azlon: reward.txt holds no number"; exit 2 } exit !(v + 0 >= 1) }'`;

// reward.json, as Harbor reads it: its "reward", else its only value; several values none of
// which is "reward" are ambiguous, and Harbor refuses them.
const JSON_REWARD = [
  `awk '{ s = s " " $0 } END { n = 0; has = 0;`,
  ` while (match(s, /"[^"]*"[ \\t]*:[ \\t]*[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?/)) {`,
  ` kv = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH);`,
  ` k = kv; sub(/^"/, "", k); sub(/"[ \\t]*:.*$/, "", k); v = kv; sub(/^.*:[ \\t]*/, "", v); n++;`,
  ` if (k == "reward") { has = 1; r = v + 0 } only = v + 0 }`,
  ` if (has) exit !(r >= 1); if (n == 0) { print "azlon: reward.json holds no number"; exit 2 }`,
  ` if (n > 1) { print "azlon: reward.json holds several rewards and none named \\"reward\\""; exit 2 }`,
  ` exit !(only >= 1) }'`,
].join("");

/** The check command: the same for every Harbor task but for the verifier's environment. */
export function harborVerifyCommand(env: Record<string, string> = {}): string {
  const exports = Object.entries(env)
    .filter(([name]) => ENV_NAME.test(name))
    .map(([name, value]) => `export ${name}=${quoted(value)}\n`)
    .join("");
  return [
    // A reward the image brought along is no reward: the verifier starts from nothing.
    `rm -rf /tests ${REWARD_DIR} && mkdir -p /tests ${REWARD_DIR} && cp -R /azlon/checks/. /tests/ || exit 1`,
    `${exports}if command -v bash >/dev/null 2>&1; then bash /tests/test.sh; else sh /tests/test.sh; fi`,
    `echo "azlon: tests/test.sh exited $?"`,
    `if [ -f ${REWARD_DIR}/reward.txt ]; then echo "reward.txt: $(head -c 200 ${REWARD_DIR}/reward.txt)"; ${TEXT_REWARD} ${REWARD_DIR}/reward.txt`,
    `elif [ -f ${REWARD_DIR}/reward.json ]; then echo "reward.json: $(head -c 500 ${REWARD_DIR}/reward.json)"; ${JSON_REWARD} ${REWARD_DIR}/reward.json`,
    `else echo "azlon: tests/test.sh wrote no reward to ${REWARD_DIR}/reward.txt or reward.json"; exit 1; fi`,
  ].join("\n");
}
