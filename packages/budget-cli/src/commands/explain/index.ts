import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget explain <taskId>`: the latest decision for a task, in plain words. */
export function registerExplainCommand(budget: Command): void {
  budget
    .command('explain')
    .description('the latest gate decision for a task and its trace, in plain words')
    .argument('<taskId>', 'task id given to `gate --task`')
    .option('--timezone <zone>', 'zone for times in the explanation (default local)')
    .action(lazyAction(async () => (await import('./run.js')).run));
}
