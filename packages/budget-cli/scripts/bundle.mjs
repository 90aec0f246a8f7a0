// Bundles what must start fast into one CommonJS file each, after tsc has built `dist/`:
// - `mosaic budget statusline` (Claude Code runs it on every prompt): `dist/statusline.bundle.cjs`;
// - the answer of an `import` with nothing new: `dist/import-quick.bundle.cjs`;
// - every other command (commander and the command modules): `dist/cli.bundle.cjs`;
// - the service package, which every local-mode command (and serve, migrate, token) runs in process:
//   `dist/service.bundle.cjs`.
// Node's ESM loader resolves, reads and links every module one by one; from one CommonJS file the
// status line starts ~55 ms sooner, a remote command ~0.1 s and a local-mode one ~0.4 s
// (docs/decisions.md). The CLI falls back to the modules when a bundle is absent (a `tsc -b` without
// this step), so this is speed, never behaviour.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

// A CommonJS bundle has no import.meta. The service finds files beside its own modules through
// `import.meta.url` (the dashboard's static files, uPlot in its node_modules): each module of the
// bundle gets its own original URL in its place, so those paths stay what they are unbundled. The
// bundle is therefore used where it was built, beside the packages it was built from, as this
// workspace's CLI is.
const originalMetaUrl = {
  name: 'original-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.(c|m)?js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      return {
        contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: 'js',
      };
    });
  },
};

const BUNDLES = {
  'statusline.bundle.cjs': join(dist, 'commands', 'statusline', 'run.js'),
  'import-quick.bundle.cjs': join(dist, 'commands', 'import', 'quick-main.js'),
  'service.bundle.cjs': fileURLToPath(import.meta.resolve('@mosaic/budget-api')),
  // Every other command: commander and the command modules, without the service, which the CLI loads
  // from its own bundle only when a command runs it in process (src/service.ts).
  'cli.bundle.cjs': join(dist, 'main.js'),
};

for (const [out, entry] of Object.entries(BUNDLES)) {
  await build({
    entryPoints: [entry],
    outfile: join(dist, out),
    bundle: true,
    platform: 'node',
    // CommonJS, required by the CommonJS bin: Node 20's ESM loader costs an ESM bundle ~15 ms more.
    format: 'cjs',
    target: 'node20.19',
    // Whitespace only: names stay readable in a stack trace, and the file parses a little faster.
    minifyWhitespace: true,
    logLevel: 'warning',
    // PGlite finds its WebAssembly and data files beside its own module, and is loaded only when a
    // command opens the embedded database; pg's optional native binding is never installed.
    external: [
      '@electric-sql/pglite',
      'pg-native',
      ...(out === 'cli.bundle.cjs' ? ['@mosaic/budget-api'] : []),
    ],
    plugins: [originalMetaUrl],
    // esbuild reads modules that tree-shaking then drops and warns that import.meta is empty in
    // CommonJS; the bundle test checks that no kept code uses it.
    logOverride: { 'empty-import-meta': 'silent' },
  });
}
