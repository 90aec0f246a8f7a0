// Bundles the two commands that must start fast into one file each, after tsc has built `dist/`:
// `mosaic budget statusline` (Claude Code runs it on every prompt) into `dist/statusline.bundle.cjs`,
// and the answer of an `import` with nothing new into `dist/import-quick.bundle.cjs`. Node's ESM
// loader resolves, reads and links every module one by one; from one CommonJS file, required by the
// CommonJS bin, the status line starts ~55 ms sooner (docs/decisions.md). The bin falls back to the modules when a bundle is absent (a
// `tsc -b` without this step), so this is speed, never behaviour.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

const BUNDLES = {
  'statusline.bundle.cjs': join('commands', 'statusline', 'run.js'),
  'import-quick.bundle.cjs': join('commands', 'import', 'quick-main.js'),
};

for (const [out, entry] of Object.entries(BUNDLES)) {
  await build({
    entryPoints: [join(dist, entry)],
    outfile: join(dist, out),
    bundle: true,
    platform: 'node',
    // CommonJS, required by the CommonJS bin: Node 20's ESM loader costs an ESM bundle ~15 ms more.
    format: 'cjs',
    target: 'node20.19',
    // Whitespace only: names stay readable in a stack trace, and the file parses a little faster.
    minifyWhitespace: true,
    logLevel: 'warning',
    // esbuild reads modules that tree-shaking then drops (the local transport reaches the service,
    // whose UI route uses import.meta) and warns that import.meta is empty in CommonJS; the bundle
    // test checks that no kept code uses it.
    logOverride: { 'empty-import-meta': 'silent' },
  });
}
