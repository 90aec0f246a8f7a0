import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

// `pnpm build` writes these bundles after tsc (scripts/bundle.mjs), and the bin runs them; the tests
// spawn the built CLI. zod alone takes ~100 ms to load, commander and the service more: none belongs
// on a path that must start fast (the import bundle once pulled the whole service in through the
// command context's transport, 3.4 MB).
describe.each([
  ['statusline.bundle.cjs', 'statuslineFromArgs'],
  ['import-quick.bundle.cjs', 'quickImportFromArgs'],
])('the %s bundle', (file, entry) => {
  it('is built, exports its command, and carries none of what a fast path must not load', async () => {
    const bundle = join(DIST, file);
    expect(existsSync(bundle)).toBe(true);
    const mod = (await import(bundle)) as Record<string, unknown>;
    expect(typeof mod[entry]).toBe('function');
    const text = readFileSync(bundle, 'utf8');
    for (const heavy of ['node_modules/zod/', 'node_modules/commander/', 'node_modules/kysely/', 'pglite']) {
      expect(text.includes(heavy), heavy).toBe(false);
    }
    // A CommonJS bundle has no import.meta: esbuild would leave an empty object in its place.
    expect(text.includes('import_meta'), 'import.meta in kept code').toBe(false);
  });
});
