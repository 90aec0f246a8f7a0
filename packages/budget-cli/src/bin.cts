#!/usr/bin/env node
// The bin is CommonJS, and so are the bundles it loads: on Node 20 the ESM loader costs the status
// line ~25 ms before any of its code runs (an ESM entry ~9 ms, an ESM bundle ~15 ms more than the same
// bundle required), and a remote command ~0.1 s for loading the CLI's modules one by one
// (docs/decisions.md). Built without bundles (a bare `tsc -b`), it imports the ESM modules instead.

import type * as StatuslineModule from './commands/statusline/run.js';
import type * as QuickImportModule from './commands/import/quick-main.js';
import type * as MainModule from './main.js';

/**
 * A command's modules from their bundle (one CommonJS file, written by scripts/bundle.mjs after tsc),
 * or from the modules themselves when this build has no bundle (a bare `tsc -b`).
 */
function fromBundle<M>(bundle: string, modules: () => Promise<M>): Promise<M> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the point: a synchronous CommonJS load
    return Promise.resolve(require(`./${bundle}`) as M);
  } catch (error) {
    // Only the bundle itself missing falls back: its message's first line names it, whereas a module
    // the bundle failed to find names the bundle only in the require stack below, and is a broken build.
    const missing =
      (error as { code?: string }).code === 'MODULE_NOT_FOUND' &&
      (String((error as Error).message).split('\n')[0] ?? '').includes(bundle);
    if (!missing) throw error;
    return modules();
  }
}

/**
 * On Node 22.1 and later, V8's compiled code for the bundles is kept on disk between runs (Node's own
 * compile cache, in its temp directory, keyed by each file's content, off with
 * NODE_DISABLE_COMPILE_CACHE=1), as TypeScript's `tsc` does: a local-mode command starts ~60–80 ms
 * sooner (docs/decisions.md). Node 20 has no such cache, and this does nothing there.
 */
function enableCompileCache(): void {
  // @types/node follows our Node 20 floor, which does not declare it.
  const mod = process.getBuiltinModule('node:module') as { enableCompileCache?: () => unknown };
  try {
    mod.enableCompileCache?.();
  } catch {
    // A cache that cannot be set up (a read-only temp directory) only costs its saving.
  }
}

// Two commands are dispatched before commander and the other commands are even loaded: the status
// line, which Claude Code runs on every prompt, and an import with nothing new, which a scheduler runs
// often (docs/cli.md; figures in docs/benchmarks.md). Anything else goes through the full CLI.
async function run(args: readonly string[]): Promise<number> {
  // A word test first, so the bin loads nothing before it knows which path it takes. Each bundle
  // then reads the command line properly and answers undefined (or false) when it is not its case.
  if (args.includes('statusline')) {
    const { statuslineFromArgs } = await fromBundle<typeof StatuslineModule>(
      'statusline.bundle.cjs',
      () => import('./commands/statusline/run.js'),
    );
    const code = await statuslineFromArgs(args);
    if (code !== undefined) return code;
  }
  if (args.includes('import')) {
    const { quickImportFromArgs } = await fromBundle<typeof QuickImportModule>(
      'import-quick.bundle.cjs',
      () => import('./commands/import/quick-main.js'),
    );
    // False when there may be something to import: the full command runs.
    if (await quickImportFromArgs(args)) return 0;
  }
  const { main } = await fromBundle<typeof MainModule>('cli.bundle.cjs', () => import('./main.js'));
  return main(process.argv);
}

// No top-level await in CommonJS; a rejection still ends the process with its stack and status 1.
enableCompileCache();
void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
