import { defineConfig } from "vitest/config";

// Three tiers, each runnable alone (`npm run test:unit`, `test:integration`, `test:e2e`); `npm test`
// runs all three.
//   unit         pure code: no database, no process, no network beyond an in-process loopback server
//   integration  real LevelDB, libp2p, processes and the CLI, in-process nodes
//   e2e          clusters of processes, Docker, a browser: one file at a time, so that a 4-node
//                cluster does not compete with another for the machine's 2 cores
export default defineConfig({
  test: {
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        // Pure tests share their workers' module cache (no isolation per file): a third of the
        // tier's time was importing the same modules again in every file.
        test: { name: "unit", include: ["packages/*/test/unit/**/*.test.ts"], isolate: false },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["packages/*/test/integration/**/*.test.ts", "test/integration/**/*.test.ts", "test/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["packages/*/test/e2e/**/*.test.ts", "test/e2e/**/*.test.ts"],
          fileParallelism: false,
        },
      },
    ],
  },
});
