import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget queue [id]`: the waiting work, or one entry's state. */
export function registerQueueCommand(budget: Command): void {
  budget
    .command('queue')
    .description('list the waiting work per account, or show one queue entry')
    .argument('[id]', 'queue entry id')
    .option('--wait <seconds>', 'with an id: long-poll up to this many seconds for a change (0–60)')
    .action(lazyAction(async () => (await import('./run.js')).run));
}
