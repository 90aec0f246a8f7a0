#!/usr/bin/env node
import { earlyStatuslineFlags } from './commands/statusline/args.js';

// Claude Code runs `mosaic budget statusline` on every prompt: it is dispatched before commander and
// the other commands are even loaded (docs/cli.md, statusline; figures in docs/benchmarks.md).
const statusline = earlyStatuslineFlags(process.argv.slice(2));
if (statusline) {
  const { runStatusline } = await import('./commands/statusline/run.js');
  process.exitCode = await runStatusline(statusline);
} else {
  const { main } = await import('./main.js');
  process.exitCode = await main(process.argv);
}
