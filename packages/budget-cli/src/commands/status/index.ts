import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget status`: per account and window, used %, pace, reset and queue depth. */
export function registerStatusCommand(budget: Command): void {
  budget
    .command('status')
    .description(
      'per account and window: used %, pace (ahead/behind), projected exhaustion, reset, queue depth',
    )
    .option('--account <id>', 'only this account')
    .action(lazyAction(async () => (await import('./run.js')).run));
}
