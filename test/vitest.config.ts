import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// One run covers every package's unit tests and the cross-package suites under test/.
// Two workers: the machine has two cores, and the e2e suites start real processes.
export default defineConfig({
  // The repository root (this file lives in test/ to keep the top level to what the brief lists).
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["packages/*/test/**/*.test.ts", "images/test/**/*.test.ts", "examples/*/test/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/fixtures/**"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    typecheck: { enabled: false },
    globalSetup: ["test/setup/build-cli.ts"],
  },
});
