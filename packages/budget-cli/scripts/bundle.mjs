// Bundles `mosaic budget statusline` — the command Claude Code runs on every prompt — into one file,
// `dist/statusline.bundle.js`, after tsc has built `dist/`. Node's ESM loader resolves, reads and
// links each of the ~40 modules the status line uses one by one; from one file the command starts
// ~35 ms sooner (docs/benchmarks.md, the status line). The bin falls back to the modules when the
// bundle is absent (a `tsc -b` without this step), so this is speed, never behaviour.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [join(pkg, 'dist', 'commands', 'statusline', 'run.js')],
  outfile: join(pkg, 'dist', 'statusline.bundle.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  // Whitespace only: names stay readable in a stack trace, and the file parses a little faster.
  minifyWhitespace: true,
  logLevel: 'warning',
});
