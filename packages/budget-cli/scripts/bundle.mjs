// Bundles the two commands that must start fast into one file each, after tsc has built `dist/`:
// `mosaic budget statusline` (Claude Code runs it on every prompt) into `dist/statusline.bundle.js`,
// and the answer of an `import` with nothing new into `dist/import-quick.bundle.js`. Node's ESM
// loader resolves, reads and links every module one by one; from one file the status line starts
// ~30 ms sooner (docs/decisions.md). The bin falls back to the modules when a bundle is absent (a
// `tsc -b` without this step), so this is speed, never behaviour.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

const BUNDLES = {
  'statusline.bundle.js': join('commands', 'statusline', 'run.js'),
  'import-quick.bundle.js': join('commands', 'import', 'quick-main.js'),
};

for (const [out, entry] of Object.entries(BUNDLES)) {
  await build({
    entryPoints: [join(dist, entry)],
    outfile: join(dist, out),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    // Whitespace only: names stay readable in a stack trace, and the file parses a little faster.
    minifyWhitespace: true,
    logLevel: 'warning',
  });
}
