import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type * as BudgetApi from '@mosaic/budget-api';

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

// The service bundle (scripts/bundle.mjs) is what every local-mode command, serve, migrate and token
// run; the CLI's own bundle, what the bin runs for every other command.
describe('the service and CLI bundles', () => {
  it('serve the dashboard files the service finds beside its modules, from the bundle', async () => {
    const bundle = join(DIST, 'service.bundle.cjs');
    const text = readFileSync(bundle, 'utf8');
    expect(text.includes('import_meta'), 'import.meta in kept code').toBe(false);
    // Module URLs are computed from the bundle's own directory, so a checkout moved after its build
    // still finds the files: no path of the build's checkout is written into the bundle.
    expect(text.includes(join(DIST, '..', '..')), 'an absolute path of the checkout').toBe(false);
    const api = createRequire(import.meta.url)(bundle) as typeof BudgetApi;
    const database = await api.openDatabase();
    try {
      await api.migrate(database.db);
      const app = await api.buildApp({
        database,
        localPrincipal: { tenantId: 'local', scopes: ['admin'] },
        background: false,
      });
      try {
        // Each path reads a file located through the module's own import.meta.url (ui.ts).
        for (const [path, marker] of [
          ['/ui', '<html'],
          ['/ui/vendor/uPlot.iife.min.js', 'uPlot'],
        ] as const) {
          const res = await app.inject({ method: 'GET', url: path });
          expect(res.statusCode, path).toBe(200);
          expect(res.body.toLowerCase()).toContain(marker.toLowerCase());
        }
      } finally {
        await app.close();
      }
    } finally {
      await database.close();
    }
  });

  it('keep the service out of the CLI bundle, which loads it only when a command runs it', async () => {
    // The OpenAPI title is in the service's app and nowhere in the CLI.
    const marker = 'Mosaic Fleet budget API';
    expect(readFileSync(join(DIST, 'service.bundle.cjs'), 'utf8')).toContain(marker);
    const cli = readFileSync(join(DIST, 'cli.bundle.cjs'), 'utf8');
    expect(cli.includes(marker)).toBe(false);
    expect(cli.includes('import_meta'), 'import.meta in kept code').toBe(false);
    const mod = (await import(join(DIST, 'cli.bundle.cjs'))) as Record<string, unknown>;
    expect(typeof mod.main).toBe('function');
  });

  it.each(['statusline.bundle.cjs', 'import-quick.bundle.cjs', 'cli.bundle.cjs', 'service.bundle.cjs'])(
    '%s stays strict: its first statement is the directive, before the module-URL helper',
    (file) => {
      // The modules are ESM, strict by definition; a line before the directive would turn it into
      // a plain expression and the whole file sloppy.
      expect(readFileSync(join(DIST, file), 'utf8').startsWith("'use strict';\n")).toBe(true);
    },
  );
});
