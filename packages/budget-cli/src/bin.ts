#!/usr/bin/env node

/**
 * A command's modules from their bundle (one file, written by scripts/bundle.mjs after tsc), or from
 * the modules themselves when this build has no bundle (a bare `tsc -b`).
 */
async function fromBundle<M>(bundle: string, modules: () => Promise<M>): Promise<M> {
  try {
    return (await import(`./${bundle}`)) as M;
  } catch (error) {
    const missing =
      (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' &&
      String((error as Error).message).includes(bundle);
    if (!missing) throw error;
    return modules();
  }
}

// Two commands are dispatched before commander and the other commands are even loaded: the status
// line, which Claude Code runs on every prompt, and an import with nothing new, which a scheduler runs
// often (docs/cli.md; figures in docs/benchmarks.md). Anything else goes through the full CLI.
async function run(args: readonly string[]): Promise<number> {
  // A word test first, so the bin imports nothing before it knows which path it takes: every module
  // the ESM loader resolves and reads costs the status line about a millisecond. Each bundle then
  // reads the command line properly and answers undefined (or false) when it is not its case.
  if (args.includes('statusline')) {
    const { statuslineFromArgs } = await fromBundle(
      'statusline.bundle.js',
      () => import('./commands/statusline/run.js'),
    );
    const code = await statuslineFromArgs(args);
    if (code !== undefined) return code;
  }
  if (args.includes('import')) {
    const { quickImportFromArgs } = await fromBundle(
      'import-quick.bundle.js',
      () => import('./commands/import/quick-main.js'),
    );
    // False when there may be something to import: the full command runs.
    if (await quickImportFromArgs(args)) return 0;
  }
  const { main } = await import('./main.js');
  return main(process.argv);
}

process.exitCode = await run(process.argv.slice(2));
