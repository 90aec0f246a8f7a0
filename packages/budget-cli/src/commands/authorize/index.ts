import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget authorize`, `revoke` and `authorizations`. */
export function registerAuthorizeCommands(budget: Command): void {
  budget
    .command('authorize')
    .description('grant an explicit permission: pace faster, overspend, or let urgent work bypass pacing')
    .option('--account <id>', 'scope: one account')
    .option('--provider <p>', 'scope: one provider')
    .option('--task-class <c>', 'scope: one task class')
    .option('--mission <m>', 'scope: one mission')
    .option('--rapid <x>', 'pace X times faster than even (X > 1)')
    .option('--overspend-usd <n>', 'allow N USD beyond the ceiling or pace line')
    .option('--urgency-bypass', 'urgent tasks skip pacing (never a window 100% or a hard ceiling)')
    .requiredOption('--until <when>', 'end: ISO-8601, "fri 17:00", "in 2d" …')
    .option('--from <when>', 'start (default now)')
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .option('--id <id>', 'authorization id (default generated)')
    .option('--by <who>', 'who grants it (default $USER)')
    .option('--timezone <zone>', 'zone for WHEN texts without one (default local)')
    .action(lazyAction(async () => (await import('./run.js')).runAuthorize));
  budget
    .command('revoke')
    .description('revoke an authorization')
    .argument('<id>', 'authorization id')
    .action(lazyAction(async () => (await import('./run.js')).runRevoke));
  budget
    .command('authorizations')
    .description('list authorizations (live, expired and revoked)')
    .action(lazyAction(async () => (await import('./run.js')).runList));
}
