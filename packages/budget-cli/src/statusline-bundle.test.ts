import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BUNDLE = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'statusline.bundle.js');

// The tests spawn the built CLI; `pnpm build` writes this bundle after tsc, and the bin runs it.
describe('the status line bundle', () => {
  it('is built, exports the command, and carries none of what the status line must not load', async () => {
    expect(existsSync(BUNDLE)).toBe(true);
    const mod = (await import(BUNDLE)) as { runStatusline?: unknown };
    expect(typeof mod.runStatusline).toBe('function');
    // zod alone takes ~100 ms to load, commander and the service more: none belongs on every prompt.
    const text = readFileSync(BUNDLE, 'utf8');
    for (const heavy of ['node_modules/zod/', 'node_modules/commander/', 'node_modules/kysely/', 'pglite']) {
      expect(text.includes(heavy), heavy).toBe(false);
    }
  });
});
