import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run against each package's TypeScript source, never a stale dist/.
    conditions: ['@mosaic/source'],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The machine has two cores; the integration suites start databases and processes.
    maxWorkers: 2,
  },
});
