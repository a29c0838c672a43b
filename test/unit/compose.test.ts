import { describe, expect, it } from "vitest";
import { PREFIX_GOAL, prefixScenarios } from "../../bench/prefix.js";
import { nextLayout } from "../../src/core/steps/prompt-layout.js";
import type {
  BuildResult,
  ChecksReport,
  CheckView,
  ExecResult,
  FileEntry,
  JudgeRequest,
  Limits,
  PromptLayout,
  RuntimeFacts,
} from "../../src/core/types.js";
import { describeChecks, MAX_PROMPT_CHECK_BYTES } from "../../src/prompts/checks.js";
import {
  formatFiles,
  generateMessages,
  judgeMessages,
  type PromptContext,
} from "../../src/prompts/compose.js";
import { describeBaseImage } from "../../src/prompts/runtime.js";
import { loadTemplates } from "../../src/prompts/templates.js";
import { testOptions } from "../helpers/fakes.js";

// Fixed inputs, so that a change to a template or to compose.ts shows up as a snapshot diff.
const limits: Limits = testOptions().limits;
const ctx: PromptContext = { limits, baseImage: null };
const templates = loadTemplates();

const prompt = "A Python function add(a, b) and a script that checks it.";
const tests = "The output shows that add(2, 3) == 5 and add(-1, 1) == 0.";
const dockerfile = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["python", "main.py"]\n';
const files = [
  { path: "README.md", content: "# add\nPlan: print one CHECK line per condition.\n" },
  { path: "main.py", content: "from add import add\nprint(f'CHECK add(2, 3) == 5: {add(2, 3) == 5}')" },
];

const failedBuild: BuildResult = {
  ok: false,
  timedOut: false,
  log: {
    text: "Step 3/4 : RUN pip install -r requirements.txt\nERROR: Could not open requirements file\n",
    totalBytes: 86,
    truncated: false,
  },
  durationMs: 4_200,
  imageId: null,
  cause: "Could not open requirements file",
};

const okBuild: BuildResult = {
  ok: true,
  timedOut: false,
  log: { text: "Successfully built\n", totalBytes: 19, truncated: false },
  durationMs: 12_000,
  imageId: "sha256:abc",
  cause: null,
};

const truncatedRun: ExecResult = {
  exitCode: 1,
  timedOut: false,
  oomKilled: false,
  signal: null,
  output: {
    text:
      "CHECK add(2, 3) == 5: PASS\ndebug 1\n" +
      "\n[... azlon cut about 4.9 MiB (120,000 lines) from the middle of the output; the head and the tail are shown ...]\n" +
      "debug 120002\nCHECK add(-1, 1) == 0: FAIL (got 2)\n1 of 2 checks failed\n",
    totalBytes: 5_242_880,
    truncated: true,
  },
  durationMs: 1_500,
};

function judgeRequest(overrides: Partial<JudgeRequest>): JudgeRequest {
  return {
    prompt,
    tests,
    iteration: 1,
    maxIterations: 20,
    dockerfile,
    files,
    build: okBuild,
    exec: truncatedRun,
    checks: null,
    checkResults: null,
    refused: [],
    history: [],
    ...overrides,
  };
}

describe("rendered prompts", () => {
  it("generation", () => {
    const messages = generateMessages(templates, ctx, { prompt, tests, checks: null });
    expect(messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(messages[1]?.content).toContain(tests);
    expect(messages).toMatchSnapshot();
  });

  it("generation with a base image and network", () => {
    const messages = generateMessages(
      templates,
      { limits: { ...limits, network: "bridge" }, baseImage: "python:3.12-slim" },
      { prompt, tests, checks: null },
    );
    expect(messages[0]?.content).toContain("`FROM python:3.12-slim`");
    expect(messages[0]?.content).toMatchSnapshot();
  });

  it("judge after a failed build: the build log is the output", () => {
    const messages = judgeMessages(
      templates,
      ctx,
      judgeRequest({
        iteration: 2,
        build: failedBuild,
        exec: null,
        history: [{ iteration: 1, summary: "wrote add.py and main.py; build failed: no requirements.txt" }],
        refused: [{ path: "../etc/hosts", reason: "escapes the workspace" }],
      }),
    );
    const user = messages[1]?.content ?? "";
    expect(user).toContain("The image build FAILED; nothing ran.");
    expect(user).toContain("ERROR: Could not open requirements file");
    expect(user).toContain("- ../etc/hosts: escapes the workspace");
    expect(user).toContain("- round 1: wrote add.py");
    expect(messages).toMatchSnapshot();
  });

  it("judge after a run whose output was cut: the cut is explained", () => {
    const messages = judgeMessages(templates, ctx, judgeRequest({}));
    const user = messages[1]?.content ?? "";
    expect(user).toContain("(The output was 5 MiB; its middle was cut, as marked.");
    expect(user).toContain("Exit code: 1.");
    expect(user).toContain("(this is the first round)");
    expect(user).toMatchSnapshot();
  });

  it("judge after a run that printed nothing and timed out", () => {
    const messages = judgeMessages(
      templates,
      ctx,
      judgeRequest({
        dockerfile: "",
        files: [],
        exec: {
          exitCode: null,
          timedOut: true,
          oomKilled: false,
          signal: "SIGKILL",
          output: { text: "", totalBytes: 0, truncated: false },
          durationMs: 300_000,
        },
      }),
    );
    const user = messages[1]?.content ?? "";
    expect(user).toContain("It TIMED OUT");
    expect(user).toContain("(nothing was printed)");
    expect(user).toContain("(no Dockerfile)");
    expect(user).toMatchSnapshot();
  });

  it("the judge's system prompt is the same every round, so endpoints can cache it", () => {
    const first = judgeMessages(templates, ctx, judgeRequest({}));
    const later = judgeMessages(
      templates,
      ctx,
      judgeRequest({
        iteration: 7,
        build: failedBuild,
        exec: null,
        history: [{ iteration: 6, summary: "x" }],
      }),
    );
    expect(later[0]?.content).toBe(first[0]?.content);
    // The stable part (test conditions, the ask) comes before the changing part (files, output).
    const user = later[1]?.content ?? "";
    expect(user.indexOf(tests)).toBeLessThan(user.indexOf("# The project"));
    expect(user.indexOf(prompt)).toBeLessThan(user.indexOf("# Output"));
  });

  it("output that looks like a placeholder reaches the judge as it was printed", () => {
    const exec: ExecResult = {
      ...truncatedRun,
      output: { text: "rendered {{tests}} and {{nope}}\n", totalBytes: 32, truncated: false },
    };
    const user = judgeMessages(templates, ctx, judgeRequest({ exec }))[1]?.content ?? "";
    expect(user).toContain("rendered {{tests}} and {{nope}}");
  });
});

describe("formatFiles", () => {
  it("shows files whole until the budget, then names the ones left out", () => {
    const files = [
      { path: "a.py", content: "a".repeat(100) },
      { path: "big.bin", content: "b".repeat(5000) },
      { path: "c.py", content: "c" },
    ];
    const text = formatFiles(files, 1000);
    expect(text).toContain(`<file path="a.py">\n${"a".repeat(100)}\n</file>`);
    expect(text).toContain('<file path="c.py">\nc\n</file>');
    expect(text).not.toContain("bbbb");
    expect(text).toContain("Left out to keep this prompt within 1 KiB");
    expect(text).toContain("big.bin (5000 bytes)");
  });

  it("names at most 50 of the files left out, then counts the rest", () => {
    const files = Array.from({ length: 3000 }, (_, i) => ({
      path: `${"d/".repeat(50)}f${i}.txt`,
      content: "x",
    }));
    const text = formatFiles(files, 1000);
    const shown = (text.match(/<file /g) ?? []).length;
    expect(text.match(/\(1 bytes\)/g)).toHaveLength(50);
    expect(text).toContain(`(1 bytes) and ${3000 - shown - 50} more. Replace one`);
    expect(text.length).toBeLessThan(15_000);
  });
});

describe("the judge prompt, ordered for the endpoint's prefix cache", () => {
  const big = { path: "lib.py", content: "x = 1\n".repeat(200) };
  const small = { path: "main.py", content: "print('hi')\n" };
  const readme = { path: "README.md", content: "# readme\n" };

  it("shows the project once, oldest change first, the files the last answer changed last", () => {
    const user =
      judgeMessages(
        templates,
        ctx,
        judgeRequest({
          iteration: 3,
          files: [readme, big, small],
          changedIn: { Dockerfile: 1, "lib.py": 1, "README.md": 2, "main.py": 3 },
        }),
      )[1]?.content ?? "";
    const at = (s: string) => user.indexOf(s);
    // Oldest change first (the Dockerfile first of its round, then the largest), then newer ones.
    expect(at('<file path="Dockerfile">')).toBeLessThan(at('<file path="lib.py">'));
    expect(at('<file path="lib.py">')).toBeLessThan(at('<file path="README.md">'));
    expect(at('<file path="README.md">')).toBeLessThan(at('<file path="main.py">'));
    expect(at('<file path="main.py">')).toBeLessThan(at("# Round 3 of 20"));
    expect(user).toContain("Files the last answer changed: main.py\n");
    for (const path of ["Dockerfile", "lib.py", "README.md", "main.py"]) {
      expect(user.split(`<file path="${path}">`).length).toBe(2);
    }
  });

  /** The judge's requests of rounds 1..n, the layout carried from one to the next as the loop does. */
  function rounds(
    projects: Array<{ files: FileEntry[]; changedIn: Record<string, number>; deleted?: string[] }>,
  ): string[] {
    let layout: PromptLayout | undefined;
    return projects.map(({ files: roundFiles, changedIn, deleted }, i) => {
      const request = judgeRequest({ iteration: i + 1, files: roundFiles, changedIn, deleted });
      layout = nextLayout(layout, request);
      return judgeMessages(templates, ctx, { ...request, layout })[1]?.content ?? "";
    });
  }

  it("repeats the whole of the last request's project, and appends what the last answer wrote", () => {
    const fixed = { path: "main.py", content: "print('fixed')\n" };
    const [first, second, third] = rounds([
      {
        files: [readme, big, small],
        changedIn: { Dockerfile: 1, "lib.py": 1, "README.md": 1, "main.py": 1 },
      },
      {
        files: [readme, big, fixed],
        changedIn: { Dockerfile: 1, "lib.py": 1, "README.md": 1, "main.py": 2 },
      },
      {
        files: [{ ...readme, content: "# readme, round 3\n" }, big, fixed],
        changedIn: { Dockerfile: 1, "lib.py": 1, "README.md": 3, "main.py": 2 },
      },
    ]) as [string, string, string];
    // Byte for byte up to the round's own part: nothing shown before is moved or rewritten.
    const upTo = (text: string, round: number) => text.slice(0, text.indexOf(`# Round ${round} of 20`));
    expect(second.startsWith(upTo(first, 1).trimEnd())).toBe(true);
    expect(third.startsWith(upTo(second, 2).trimEnd())).toBe(true);
    // main.py is shown as round 1 left it, then again as round 2 wrote it; the prompt says which holds.
    expect(upTo(third, 3).split('<file path="main.py">')).toHaveLength(3);
    expect(third).toContain("The last copy of a file is the file as it is now");
    expect(third.indexOf("## Round 2")).toBeLessThan(third.indexOf("print('fixed')"));
    expect(third.indexOf("## Round 3")).toBeLessThan(third.indexOf("# readme, round 3"));
    expect(third).toContain('Files the last answer changed: README.md (shown under "## Round 3" above)\n');
  });

  it("a round whose result was reused says so before the result", () => {
    const user =
      judgeMessages(templates, ctx, judgeRequest({ iteration: 2, reusedFrom: 1 }))[1]?.content ?? "";
    expect(user).toContain(
      "# Result\n\nNothing changed since round 1, so its result is shown again: it was not built or run again.\nThe image was built",
    );
  });

  it("a template written for the two groups of earlier versions still gets them, each file once", () => {
    const legacy = {
      ...templates,
      validateUser: {
        text: "{{tests}}\n\nSTAYED\n{{ unchangedFiles }}\n\nWROTE\n{{changedFiles}}\n\n{{output}}\n",
        source: "legacy.md",
      },
    };
    const user =
      judgeMessages(
        legacy,
        ctx,
        judgeRequest({ iteration: 2, files: [readme, big, small], changedIn: { "main.py": 2 } }),
      )[1]?.content ?? "";
    const unchanged = user.slice(user.indexOf("STAYED"), user.indexOf("WROTE"));
    const changed = user.slice(user.indexOf("WROTE"));
    expect(unchanged).toContain('<file path="lib.py">');
    expect(unchanged).not.toContain('<file path="main.py">');
    expect(changed).toContain('<file path="main.py">');
    expect(user.split('<file path="main.py">')).toHaveLength(2);
  });

  it("shows a deleted file as deleted, in the round that deleted it", () => {
    const [, second] = rounds([
      { files: [readme, big, small], changedIn: {} },
      { files: [big, small], changedIn: {}, deleted: ["README.md"] },
    ]) as [string, string];
    expect(second).toMatch(/## Round 2\nDeleted: README\.md\n/);
    expect(second).toContain("Files the last answer changed: deleted README.md\n");
  });

  it("a 7-file project of over 30 KB: each request repeats at least 85% of the one before", () => {
    const scenarios = prefixScenarios();
    expect(scenarios).toHaveLength(2);
    for (const { figures } of scenarios) {
      expect(figures.projectBytes).toBeGreaterThan(30_000);
      expect(figures.shares).toHaveLength(4);
      for (const share of figures.shares) expect(share).toBeGreaterThanOrEqual(PREFIX_GOAL);
    }
  });
});

describe("the checks as the model is shown them", () => {
  it("shows the check files within their budget and names the ones left out", () => {
    const files = [
      { path: "test_small.py", content: "def test_a(): pass\n" },
      { path: "test_big.py", content: "x".repeat(MAX_PROMPT_CHECK_BYTES) },
      { path: "conftest.py", content: "import pytest\n" },
    ];
    const text = describeChecks({
      commands: ["pytest -q /azlon/checks"],
      files,
      names: files.map((f) => f.path),
      ready: null,
      verdict: "both",
    });
    expect(text).toContain('<file path="test_small.py">\ndef test_a(): pass\n</file>');
    expect(text).toContain('<file path="conftest.py">');
    expect(text).not.toContain('<file path="test_big.py">');
    expect(text).toContain("(Not shown, to keep this prompt short: test_big.py.)");
  });
});

/** The checks of the four runs the snapshots pin: a program or a service, checks shown or held out. */
const checkFile = {
  path: "test_roman.py",
  content: "import roman\nassert roman.to_roman(4) == 'IV'\nprint('4 -> IV: ok')\n",
};
const shownChecks: CheckView = {
  commands: ["python3 /azlon/checks/test_roman.py"],
  files: [checkFile],
  names: [checkFile.path],
  ready: null,
  verdict: "both",
};
const serviceChecks: CheckView = {
  commands: ["python3 /azlon/checks/test_api.py"],
  files: [
    {
      path: "test_api.py",
      content:
        "import urllib.request\nprint(urllib.request.urlopen('http://127.0.0.1:8080/sum?a=2&b=3').read())\n",
    },
  ],
  names: ["test_api.py"],
  ready: "wget -q -O /dev/null http://127.0.0.1:8080/",
  verdict: "both",
};
const hiddenChecks: CheckView = { ...shownChecks, files: null, need: "python3 and PyYAML" };

const checkReport = (output: string, passed = false): ChecksReport => ({
  service: null,
  results: [
    {
      command: shownChecks.commands[0] as string,
      exitCode: passed ? 0 : 1,
      timedOut: false,
      passed,
      problem: passed ? null : "exit 1",
      output: { text: output, totalBytes: Buffer.byteLength(output), truncated: false },
      durationMs: 172,
    },
  ],
});

const servedRun: ExecResult = {
  exitCode: null,
  timedOut: false,
  oomKilled: false,
  signal: null,
  output: {
    text: "self-test: 2 + 3 = 5 ok\nserving on :8080\n\n[azlon: the service was stopped after its checks]\n",
    totalBytes: 90,
    truncated: false,
  },
  durationMs: 3_000,
};

const python: RuntimeFacts = {
  os: "Debian GNU/Linux 12 (bookworm)",
  arch: "amd64",
  user: null,
  locale: "",
  probed: true,
  found: [
    { name: "python3", version: "Python 3.11.2" },
    { name: "apt-get", version: null },
  ],
  pip: false,
  versions: [],
};
const withRuntime: PromptContext = { limits, baseImage: "azlon-test-python:3.11", runtime: python };

describe("the model's seat: requests by mode and by checks", () => {
  it("a program with its checks shown: the program's rule, how checks reach the code, fenced output", () => {
    const gen = generateMessages(templates, withRuntime, { prompt, tests, checks: shownChecks });
    const judge = judgeMessages(
      templates,
      withRuntime,
      judgeRequest({
        checks: shownChecks,
        checkResults: checkReport(
          "Traceback (most recent call last):\n  File \"/azlon/checks/test_roman.py\", line 1\nModuleNotFoundError: No module named 'roman'\n",
        ),
      }),
    );
    for (const system of [gen[0]?.content, judge[0]?.content]) {
      expect(system).toContain("No server that waits forever");
      expect(system).not.toContain("service");
      expect(system).toContain("stdout and stderr are shown merged, as printed\n");
      expect(system).toContain("python3 (Python 3.11.2) without pip; package tool: apt-get");
    }
    expect(gen[1]?.content).toContain("Checks may import the project by name or run it by path");
    expect(gen[1]?.content).toContain("for Python, set PYTHONPATH");
    const user = judge[1]?.content ?? "";
    expect(user).toContain(
      "## `python3 /azlon/checks/test_roman.py`: FAILED (exit 1), 172 ms\n```\nTraceback",
    );
    expect(user).toContain("Head and tail are shown.)\n```\nCHECK add(2, 3) == 5: PASS\n");
    expect(gen).toMatchSnapshot();
    expect(judge[1]?.content).toMatchSnapshot();
  });

  it("a service: the service's rule in the system prompt, and no rule that it must finish", () => {
    const gen = generateMessages(templates, ctx, { prompt, tests, checks: serviceChecks });
    const report: ChecksReport = {
      service: { ready: true, problem: null, durationMs: 500 },
      results: [
        {
          ...(checkReport("  FAIL: got b'{\"sum\": 6}'\n").results[0] as ChecksReport["results"][0]),
          command: serviceChecks.commands[0] as string,
        },
      ],
    };
    const judge = judgeMessages(
      templates,
      ctx,
      judgeRequest({ checks: serviceChecks, checkResults: report, exec: servedRun }),
    );
    for (const system of [gen[0]?.content, judge[0]?.content]) {
      expect(system).toContain("The program is a service");
      expect(system).toContain(
        "keeps it running (it never exits on its own; azlon stops it after the user's checks)",
      );
      expect(system).toContain(
        "run it before serving (exit non-zero, without serving, when it fails) or against a separate instance",
      );
      expect(system).toContain("stdout and stderr are shown merged, as printed, up to that stop");
      expect(system).not.toContain("No server that waits forever");
      expect(system).not.toContain("the program is stopped after");
    }
    expect(gen[1]?.content).not.toContain("replaces the rule");
    const user = judge[1]?.content ?? "";
    expect(user).toContain(
      "Exit code: none: it was still running when azlon stopped it after the checks, as a service should.",
    );
    expect(user).toContain("The image was built and the service ran for 3.0 s.");
    expect(user).toContain("```\n  FAIL: got b'{\"sum\": 6}'\n```");
    expect(gen).toMatchSnapshot();
    expect(user).toMatchSnapshot();
  });

  it("checks held out: their names, what the user says they need, and their results", () => {
    const gen = generateMessages(templates, ctx, { prompt, tests, checks: hiddenChecks });
    const judge = judgeMessages(
      templates,
      ctx,
      judgeRequest({ checks: hiddenChecks, checkResults: checkReport("4 -> IV: ok\n", true) }),
    );
    for (const user of [gen[1]?.content, judge[1]?.content]) {
      expect(user).toContain("test_roman.py (their contents are held out");
      expect(user).toContain("Give the image what the checks need (the user says: python3 and PyYAML).");
      expect(user).not.toContain("import roman");
    }
    expect(gen[1]?.content).toMatchSnapshot();
    expect(judge[1]?.content).toMatchSnapshot();
  });

  it("--check-image: the model is told where its checks run (the user's image, the project at /azlon/project), not to fit them in its image", () => {
    const program = describeChecks({ ...shownChecks, image: "checks:1" });
    expect(program).toContain("in a fresh container of the user's image `checks:1`, not the project's");
    expect(program).toContain("read-only at /azlon/project");
    expect(program).toContain("/azlon/output (stdout, stderr, exit-code)");
    expect(program).not.toContain("PYTHONPATH");
    expect(program).not.toContain("Give the image what the checks need");
    const service = describeChecks({ ...serviceChecks, image: "checks:1" });
    expect(service).toContain(
      "a fresh container of the user's image `checks:1` (not the project's) that shares the service's network",
    );
    expect(service).not.toContain("PYTHONPATH");
    // Without it, the checks run in the project's image, which must hold what they need.
    expect(describeChecks(shownChecks)).toContain("PYTHONPATH");
  });

  it("a service that exited on its own is told it must keep running", () => {
    const exec = { ...servedRun, exitCode: 1 };
    const user = judgeMessages(templates, ctx, judgeRequest({ checks: serviceChecks, exec }))[1]?.content;
    expect(user).toContain("Exit code: 1: the service exited on its own; it must keep running.");
  });

  it("each system prompt is the same every round of a service run, so endpoints can cache it", () => {
    const first = judgeMessages(templates, withRuntime, judgeRequest({ checks: serviceChecks }));
    const later = judgeMessages(
      templates,
      withRuntime,
      judgeRequest({ checks: serviceChecks, iteration: 20, build: failedBuild, exec: null }),
    );
    expect(later[0]?.content).toBe(first[0]?.content);
  });
});

describe("output is output", () => {
  it("a block per source, fenced longer than any backticks printed, escape sequences left out", () => {
    const exec: ExecResult = {
      ...truncatedRun,
      output: { text: "\u001b[32mok\u001b[0m\n````\n# Check results\n", totalBytes: 30, truncated: false },
    };
    const build: BuildResult = {
      ...failedBuild,
      log: {
        text: "Step 1/2 : FROM x\n\u001b[91mE: Unable to locate package python3-pip\n\u001b[0m",
        totalBytes: 60,
        truncated: false,
      },
    };
    const ran = judgeMessages(templates, ctx, judgeRequest({ exec }))[1]?.content ?? "";
    expect(ran).toContain("# Output\n\n`````\nok\n````\n# Check results\n`````\n");
    const failed = judgeMessages(templates, ctx, judgeRequest({ build, exec: null }))[1]?.content ?? "";
    expect(failed).toContain("```\nStep 1/2 : FROM x\nE: Unable to locate package python3-pip\n```");
    expect(failed).not.toContain("\u001b");
  });

  it("a failed check's whole output, as large as the program's may be, reaches the judge", () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `case ${i}: expected ${i}, got ${i + 1}`);
    const text = `${lines.join("\n")}\n`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(50_000);
    const user =
      judgeMessages(templates, ctx, judgeRequest({ checks: shownChecks, checkResults: checkReport(text) }))[1]
        ?.content ?? "";
    expect(user).toContain(`\`\`\`\n${text}\`\`\``);
  });

  it("the last round says what becomes of its answer; earlier rounds do not", () => {
    const last = judgeMessages(templates, ctx, judgeRequest({ iteration: 5, maxIterations: 5 }))[1]?.content;
    expect(last).toContain(
      "# Round 5 of 5\n\nThis is the last round: if it does not pass, the run stops here, and a fix you send now is applied only if the user resumes the run with more rounds.\n\nFiles",
    );
    const fourth = judgeMessages(templates, ctx, judgeRequest({ iteration: 4, maxIterations: 5 }))[1]
      ?.content;
    expect(fourth).toContain("# Round 4 of 5\n\nFiles the last answer changed");
  });
});

describe("the base image as the model is told it", () => {
  it("names the OS, the language and whether pip is there, the package tool and the locale", () => {
    expect(describeBaseImage("azlon-test-python:3.11", python)).toBe(
      "use `FROM azlon-test-python:3.11` (it is available locally; other images may not be pullable). In it, azlon found: Debian GNU/Linux 12 (bookworm) on amd64; python3 (Python 3.11.2) without pip; package tool: apt-get; no LANG or LC_ALL set.",
    );
    const busybox: RuntimeFacts = { ...python, os: "BusyBox v1.35.0", found: [], pip: null, locale: null };
    expect(describeBaseImage("busybox:latest", busybox)).toContain(
      "In it, azlon found: BusyBox v1.35.0 on amd64; no python3, node, java, go or ruby; no package tool (apt-get, apk, dnf, yum or microdnf).",
    );
  });

  it("without a probe, says what the image's config says; with nothing learnt, only the name", () => {
    const config: RuntimeFacts = {
      os: null,
      arch: "arm64",
      user: "app",
      locale: "C.UTF-8",
      probed: false,
      found: [],
      pip: null,
      versions: ["PYTHON_VERSION=3.12.1"],
    };
    expect(describeBaseImage("python:3.12-slim", config)).toContain(
      "In it, azlon found: arm64; PYTHON_VERSION=3.12.1; runs as user app, not root; locale C.UTF-8.",
    );
    expect(describeBaseImage("python:3.12-slim", null)).toBe(
      "use `FROM python:3.12-slim` (it is available locally; other images may not be pullable).",
    );
  });
});

describe("a run from the user's project", () => {
  const project = {
    map: "3 files, 1.2 KiB\nsrc/\n  greet.py (40 B)\nREADME.md (20 B)\nDockerfile (60 B)",
    files: [{ path: "src/greet.py", content: "print('hello, wrld')\n" }],
    named: ["docs/big.md"],
    dockerfile: 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/src/greet.py"]\n',
    dockerfilePath: null,
  };

  it("the first request shows the map, the Dockerfile and the files that matter; the rules say how to change it", () => {
    const messages = generateMessages(templates, ctx, { prompt, tests, checks: null, project });
    const [system, user] = messages.map((m) => m.content);
    expect(system).toContain("2. You change the user's existing project.");
    expect(system).toContain('answer with "read"');
    expect(system).toContain("3. dockerfile: null keeps the project's Dockerfile");
    expect(system).not.toContain("a README.md first");
    expect(user).toContain("## Map\n\n3 files, 1.2 KiB\nsrc/\n  greet.py (40 B)");
    expect(user).toContain('<file path="src/greet.py">');
    expect(user).toContain("Also likely to matter (ask to read them): docs/big.md");
    expect(messages).toMatchSnapshot();
  });

  it("a project without a Dockerfile is asked for one", () => {
    const messages = generateMessages(templates, ctx, {
      prompt,
      tests,
      checks: null,
      project: { ...project, dockerfile: null },
    });
    expect(messages[0]?.content).toContain("3. dockerfile: the project has none, so write one");
    expect(messages[1]?.content).toContain("(none: the project has no Dockerfile; write one)");
  });

  it("files read on request come after the rest of the request, with what was refused and the asks left", () => {
    const reads = {
      files: [{ path: "src/deep/mod.py", content: "x = 1\n" }],
      refused: [{ path: "../etc/passwd", reason: "read refused: the path escapes the workspace" }],
      left: 2,
    };
    const first = generateMessages(templates, ctx, { prompt, tests, checks: null, project });
    const again = generateMessages(templates, ctx, { prompt, tests, checks: null, project, reads });
    const text = again[1]?.content ?? "";
    // The request repeats the one before, then adds the reads: a cached prefix holds.
    expect(text.startsWith((first[1]?.content ?? "").trimEnd())).toBe(true);
    expect(text).toContain('# Files you asked to read\n\n<file path="src/deep/mod.py">');
    expect(text).toContain("- ../etc/passwd: read refused: the path escapes the workspace");
    expect(text).toContain("You may ask to read 2 more times this round");
    const judged = judgeMessages(templates, ctx, judgeRequest({ projectMap: project.map, reads }));
    const user = judged[1]?.content ?? "";
    expect(user).toContain("# Map of the whole project");
    expect(user.indexOf("# Map of the whole project")).toBeLessThan(user.indexOf("# Round 1 of 20"));
    expect(
      user.trimEnd().endsWith("You may ask to read 2 more times this round; now answer if you can."),
    ).toBe(true);
  });
});
