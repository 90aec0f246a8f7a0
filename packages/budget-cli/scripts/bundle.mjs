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
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

// A CommonJS bundle has no import.meta. The service finds files beside its own modules through
// `import.meta.url` (the dashboard's static files, uPlot in its node_modules), and the CLI its service
// bundle: in each module of a bundle it becomes that module's original URL, computed at run time from
// the bundle's own directory and the module's path relative to it, so those paths stay what they are
// unbundled and a checkout moved after its build still finds them. The helper is defined once at the
// top of the file, in the CommonJS wrapper's scope, where `require` and `__dirname` are the bundle's
// own: written inline, `require` would name whatever a module calls `require` itself (service.ts
// keeps `createRequire(import.meta.url)` in a constant of that name).
const MODULE_URL = '__mosaicModuleUrl';
// It is preceded by the directive that keeps the file strict, as esbuild's own first line would.
const MODULE_URL_HELPER = `'use strict';\nvar ${MODULE_URL} = (rel) => require("node:url").pathToFileURL(require("node:path").join(__dirname, rel)).href;`;
const originalMetaUrl = {
  name: 'original-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.(c|m)?js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(dist, args.path).split(sep).join('/');
      return {
        contents: text.replaceAll('import.meta.url', `${MODULE_URL}(${JSON.stringify(rel)})`),
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
    banner: { js: MODULE_URL_HELPER },
    // esbuild reads modules that tree-shaking then drops and warns that import.meta is empty in
    // CommonJS; the bundle test checks that no kept code uses it.
    logOverride: { 'empty-import-meta': 'silent' },
  });
}
