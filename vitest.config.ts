import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run against each package's TypeScript source, never a stale dist/.
    conditions: ['@mosaic/source'],
  },
  // Test files run in vitest's server (SSR) environment, whose resolver has its own conditions.
  ssr: { resolve: { conditions: ['@mosaic/source'], externalConditions: ['@mosaic/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    // Generous: the machine is small and shared; a timeout here is never a correctness assertion.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // The machine has two cores; the integration suites start databases and processes.
    maxWorkers: 2,
  },
});
