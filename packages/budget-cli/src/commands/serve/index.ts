import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget serve`: run the service (embedded database unless DATABASE_URL is set). */
export function registerServeCommand(budget: Command): void {
  budget
    .command('serve')
    .description('run the service: PGlite in --data-dir by default, PostgreSQL with --database-url')
    .option('--port <n>', 'port to listen on (env PORT)')
    .option('--host <h>', 'address to listen on (env HOST)')
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL); default the embedded database')
    .option('--log-level <l>', 'fatal | error | warn | info | debug | trace | silent (env LOG_LEVEL)')
    .action(lazyAction(async () => (await import('./run.js')).run));
}
