import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget migrate`: bring the database schema to the latest version. */
export function registerMigrateCommand(budget: Command): void {
  budget
    .command('migrate')
    .description('apply the database migrations (embedded database, or --database-url / DATABASE_URL)')
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL)')
    .action(lazyAction(async () => (await import('./run.js')).run));
}
