import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget token create|revoke`: bearer tokens, made directly in the database. */
export function registerTokenCommand(budget: Command): void {
  const token = budget
    .command('token')
    .description('create or revoke bearer tokens (works on the database directly)');
  token
    .command('create')
    .description('create a token; it is printed once and only its hash is stored')
    // --tenant is the budget group's own flag (commander gives it to the group); it names the tenant here.
    .addHelpText('after', '\n--tenant <id> (required): tenant the token acts for, created if new')
    .option('--scopes <list>', 'comma-separated: gate,ingest,read,admin', 'read')
    .option('--name <name>', 'a label for the token')
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL); default the embedded database')
    .action(lazyAction(async () => (await import('./run.js')).runCreate));
  token
    .command('revoke')
    .description('revoke a token by its id (or the token itself)')
    .argument('<id>', 'token id (the 16 hex digits after mbt_) or the token')
    .addHelpText('after', '\n--tenant <id>: only if the token belongs to this tenant')
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL)')
    .action(lazyAction(async () => (await import('./run.js')).runRevoke));
}
