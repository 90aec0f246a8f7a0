import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget signal`: record a usage-vs-limit observation by hand. */
export function registerSignalCommand(budget: Command): void {
  budget
    .command('signal')
    .description('record a usage signal: how much of a window is used, and when it resets')
    .requiredOption('--account <id>', 'account')
    .requiredOption('--window <name>', 'window, e.g. weekly or session')
    .requiredOption('--used <percent>', 'used percentage, e.g. 42% or 42.5')
    .option('--resets-at <when>', 'reset instant: ISO-8601, "fri 17:00", "in 3d4h" …')
    .option('--confidence <c>', 'user | provider | estimated | unknown', 'provider')
    .option('--observed-at <when>', 'when it was observed (default now)')
    .option('--timezone <zone>', "zone for WHEN texts without one (default: the account's zone)")
    .action(lazyAction(async () => (await import('./run.js')).run));
}
