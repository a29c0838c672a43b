import { basename, join } from "node:path";
import { z } from "zod";
import { UsageError } from "../../core/errors.js";
import { type BatchTask, checkId, taskLayer, within } from "../task.js";
import { isFile, readTaskFile } from "./folders.js";
import { ENV_NAME, harborVerifyCommand, REWARD_DIR } from "./harbor-verify.js";

export const TASK_TOML = "task.toml";
export const INSTRUCTION = "instruction.md";

const seconds = z.number().positive();
const env = z.record(z.string(), z.string());

/**
 * The part of Harbor's task.toml azlon reads (timeouts, resources, network, environment
 * variables); the rest (metadata, schema_version, [task], storage, gpus) is the task's own.
 * Older tasks give `memory = "2G"`, newer ones `memory_mb = 2048`.
 */
const TaskToml = z.object({
  verifier: z.object({ timeout_sec: seconds.optional(), env: env.optional() }).optional(),
  agent: z.object({ timeout_sec: seconds.optional() }).optional(),
  solution: z.object({ env: env.optional() }).optional(),
  environment: z
    .object({
      build_timeout_sec: seconds.optional(),
      cpus: z.number().positive().optional(),
      memory_mb: z.number().positive().optional(),
      memory: z.string().optional(),
      allow_internet: z.boolean().optional(),
      network_mode: z.string().optional(),
      docker_image: z.string().min(1).optional(),
    })
    .optional(),
});
type TaskToml = z.infer<typeof TaskToml>;

/** What the judge and the model read as the test conditions of a Harbor task. */
export const HARBOR_TESTS =
  "The task's hidden verifier decides: its tests/test.sh runs in a fresh container of the built image, " +
  `with the tests at /tests, and must write a reward of 1 to ${REWARD_DIR}/reward.txt. ` +
  "So the image itself must hold the finished work: do what the instruction asks in the Dockerfile and the project's files.";

async function parseToml(text: string, where: string): Promise<TaskToml> {
  const { parse, TomlError } = await import("smol-toml");
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    const line = error instanceof TomlError ? ` (line ${error.line}, column ${error.column})` : "";
    throw new UsageError(
      `${where}: ${TASK_TOML} cannot be read${line}: ${(error as Error).message.split("\n")[0]}`,
      "fix its TOML syntax",
    );
  }
  const result = TaskToml.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UsageError(
      `${where}: ${TASK_TOML} has ${issue ? `${issue.path.join(".")}: ${issue.message}` : "values azlon cannot use"}`,
      "see Harbor's task.toml reference",
    );
  }
  return result.data;
}

/**
 * Harbor's network setting as azlon's. Harbor allows the internet unless the task says not;
 * a task set from elsewhere may not open the box, so azlon keeps its own default (builds reach
 * the network, the program and checks do not) unless the batch is given --network bridge.
 */
function network(environment: NonNullable<TaskToml["environment"]>): { network?: "none" } {
  if (environment.allow_internet === false) return { network: "none" };
  if (environment.network_mode && /^(none|no-network|no_network|disabled)$/i.test(environment.network_mode))
    return { network: "none" };
  return {};
}

function checkedEnv(vars: Record<string, string> | undefined, where: string, what: string) {
  for (const name of Object.keys(vars ?? {})) {
    if (!ENV_NAME.test(name))
      throw new UsageError(`${where}: ${what} has a variable named ${JSON.stringify(name)}`);
  }
  return vars ?? {};
}

/**
 * A Harbor task folder: instruction.md (the prompt), task.toml (timeouts, cpus, memory and
 * network become the run's limits), environment/ (the project to start from, its Dockerfile
 * the project's), tests/test.sh (the verifier, hidden from the model) and solution/solve.sh
 * (the reference, for --oracle). Its id is the folder's name.
 */
export async function parseHarborFolder(dir: string): Promise<BatchTask> {
  const where = dir;
  const id = checkId(basename(dir), `the task folder ${dir}`);
  if (!isFile(join(dir, TASK_TOML))) {
    throw new UsageError(`${where}: a Harbor task needs ${TASK_TOML}`, "add it, even with only [metadata]");
  }
  const config = await parseToml(readTaskFile(join(dir, TASK_TOML), where), where);
  if (!isFile(join(dir, INSTRUCTION))) {
    throw new UsageError(
      `${where}: the task is missing its prompt: ${INSTRUCTION}`,
      "write the instruction there",
    );
  }
  const prompt = readTaskFile(join(dir, INSTRUCTION), where).trim();
  if (prompt === "")
    throw new UsageError(`${where}: the task is missing its prompt: ${INSTRUCTION} is empty`);
  const tests = join(dir, "tests");
  if (!isFile(join(tests, "test.sh"))) {
    throw new UsageError(
      `${where}: the task is missing its tests: tests/test.sh`,
      `a Harbor verifier writes its reward to ${REWARD_DIR}/reward.txt`,
    );
  }
  const environment = config.environment ?? {};
  const envDir = join(dir, "environment");
  const dockerfile = join(envDir, "Dockerfile");
  const image = environment.docker_image ?? null;
  if (!isFile(dockerfile) && image === null) {
    const compose = ["docker-compose.yaml", "docker-compose.yml"].some((f) => isFile(join(envDir, f)));
    throw new UsageError(
      `${where}: ${compose ? "the environment is a docker-compose file, and azlon runs one container" : "the task has no environment/Dockerfile"}`,
      compose
        ? "give the task an environment/Dockerfile"
        : "add environment/Dockerfile, or docker_image in [environment]",
    );
  }
  const layer = taskLayer(
    {
      checks: [harborVerifyCommand(checkedEnv(config.verifier?.env, where, "[verifier] env"))],
      checksDir: within(dir, tests, "tests/", where),
      hideChecks: true,
      verdict: "checks",
      ...network(environment),
      ...(config.verifier?.timeout_sec ? { checkTimeout: config.verifier.timeout_sec } : {}),
      ...(config.agent?.timeout_sec ? { maxTime: config.agent.timeout_sec } : {}),
      ...(environment.build_timeout_sec ? { buildTimeout: environment.build_timeout_sec } : {}),
      ...(environment.cpus ? { cpus: environment.cpus } : {}),
      ...(environment.memory_mb
        ? { memory: `${Math.round(environment.memory_mb)}m` }
        : environment.memory
          ? { memory: environment.memory }
          : {}),
      ...(image ? { baseImage: image } : {}),
    },
    join(dir, TASK_TOML),
    dir,
  );
  const solution = join(dir, "solution");
  const hasEnvironment = isFile(dockerfile);
  return {
    id,
    format: "harbor",
    source: where,
    prompt,
    tests: HARBOR_TESTS,
    layer,
    from: hasEnvironment ? within(dir, envDir, "environment/", where) : null,
    solution: isFile(join(solution, "solve.sh"))
      ? {
          kind: "script",
          dir: within(dir, solution, "solution/", where),
          script: "solve.sh",
          env: checkedEnv(config.solution?.env, where, "[solution] env"),
          dockerfile: hasEnvironment ? readTaskFile(dockerfile, where) : null,
          image,
        }
      : null,
  };
}
