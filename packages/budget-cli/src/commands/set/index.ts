import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget set`: create an account or change its reset, ceiling, concurrency or zone. */
export function registerSetCommand(budget: Command): void {
  budget
    .command('set')
    .description('create an account (with --provider --kind --models) or change it')
    .requiredOption('--account <id>', 'account id, e.g. max-a')
    .option('--provider <p>', 'provider when creating, e.g. anthropic, openai')
    .option('--kind <kind>', 'subscription | api (when creating)')
    .option('--models <list>', 'comma-separated models it serves, most capable first')
    .option('--timezone <zone>', 'IANA zone of the account (calendar periods, WHEN texts)')
    .option('--window <name>', 'the limit window --reset-at/--window-length refer to', 'weekly')
    .option('--window-length <iso>', 'create or resize that window: P7D, PT5H …')
    .option('--rolling', 'the window starts at first use (a 5-hour session window)')
    .option('--reset-at <when>', 'next reset of the window: ISO-8601, "fri 17:00", "in 3d4h" …')
    .option('--confidence <c>', 'confidence of --reset-at: user | provider | estimated | unknown', 'user')
    .option('--ceiling-usd <n>', 'hard USD ceiling over --period')
    .option('--period <p>', 'ceiling period: P1D | P1W | P1M')
    .option('--concurrency <n>', 'most tasks in flight at once on the account')
    .addHelpText(
      'after',
      '\nExamples:\n  mosaic budget set --account max-a --provider anthropic --kind subscription --models claude-opus-4-1,claude-sonnet-4-5 --timezone America/Chicago\n  mosaic budget set --account max-a --reset-at "fri 17:00"\n  mosaic budget set --account api-key --ceiling-usd 200 --period P1M',
    )
    .action(lazyAction(async () => (await import('./run.js')).run));
}
