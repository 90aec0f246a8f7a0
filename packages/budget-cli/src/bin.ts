#!/usr/bin/env node
import { earlyStatuslineFlags } from './commands/statusline/args.js';
import type { runStatusline } from './commands/statusline/run.js';

interface StatuslineModule {
  runStatusline: typeof runStatusline;
}

// The status line's modules in one file, written by scripts/bundle-statusline.mjs after tsc.
const STATUSLINE_BUNDLE = './statusline.bundle.js';

/** The bundled status line, or its modules when this build has no bundle (a bare `tsc -b`). */
async function loadStatusline(): Promise<StatuslineModule> {
  try {
    return (await import(STATUSLINE_BUNDLE)) as StatuslineModule;
  } catch (error) {
    const missing =
      (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' &&
      String((error as Error).message).includes('statusline.bundle.js');
    if (!missing) throw error;
    return import('./commands/statusline/run.js');
  }
}

// Claude Code runs `mosaic budget statusline` on every prompt: it is dispatched before commander and
// the other commands are even loaded (docs/cli.md, statusline; figures in docs/benchmarks.md).
const statusline = earlyStatuslineFlags(process.argv.slice(2));
if (statusline) {
  process.exitCode = await (await loadStatusline()).runStatusline(statusline);
} else {
  const { main } = await import('./main.js');
  process.exitCode = await main(process.argv);
}
