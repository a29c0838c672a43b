import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    // vitest's summary for people, then one plain "N passed, N failed" line for CI.
    reporters: ["default", "./test/helpers/count-reporter.ts"],
  },
});
