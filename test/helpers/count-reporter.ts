import type { Reporter, TestModule } from "vitest/node";

/**
 * Ends the run with one plain line, "N passed, N failed, N skipped", which CI reads whatever
 * the test runner (vitest's own summary is for people).
 */
export default class CountReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown> = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      // A file that failed with no failed test (it failed to load, or a hook such as afterAll
      // threw) is a failure all the same.
      const testFailed = [...module.children.allTests()].some((t) => t.result().state === "failed");
      if (module.state() === "failed" && !testFailed) failed++;
    }
    // Errors thrown outside any test (a timer, a stray promise) fail the run too.
    failed += unhandledErrors.length;
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
