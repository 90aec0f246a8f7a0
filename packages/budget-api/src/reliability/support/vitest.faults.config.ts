import { defineConfig } from 'vitest/config';

// The fault tests that disturb the machine's shared PostgreSQL (test 3 restarts it): they run alone,
// after the main suite, with `pnpm test:faults` (vitest run --config <this file>).
// eslint-disable-next-line no-restricted-syntax -- vitest loads its configuration through a default export.
export default defineConfig({
  root: new URL('../../../../../', import.meta.url).pathname,
  resolve: { conditions: ['@mosaic/source'] },
  test: {
    include: ['packages/budget-api/src/reliability/**/*.faults.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
