#!/usr/bin/env node
import { earlyImportFlags } from './commands/import/args.js';
import { earlyStatuslineFlags } from './commands/statusline/args.js';

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
const args = process.argv.slice(2);
const statusline = earlyStatuslineFlags(args);
const quickImport = statusline ? undefined : earlyImportFlags(args);
if (statusline) {
  const { runStatusline } = await fromBundle(
    'statusline.bundle.js',
    () => import('./commands/statusline/run.js'),
  );
  process.exitCode = await runStatusline(statusline);
} else if (
  quickImport &&
  (await (
    await fromBundle('import-quick.bundle.js', () => import('./commands/import/quick-main.js'))
  ).runQuickImport(quickImport))
) {
  process.exitCode = 0;
} else {
  const { main } = await import('./main.js');
  process.exitCode = await main(process.argv);
}
