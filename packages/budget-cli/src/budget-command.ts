import type { Command } from 'commander';
import { registerSetCommand } from './commands/set/index.js';
import { registerStatusCommand } from './commands/status/index.js';
import { registerGateCommand } from './commands/gate/index.js';
import { registerSignalCommand } from './commands/signal/index.js';
import { registerSpendCommand } from './commands/spend/index.js';
import { registerAuthorizeCommands } from './commands/authorize/index.js';
import { registerPolicyCommand } from './commands/policy/index.js';
import { registerExplainCommand } from './commands/explain/index.js';
import { registerQueueCommand } from './commands/queue/index.js';
import { registerReportCommand } from './commands/report/index.js';
import { registerImportCommand } from './commands/import/index.js';
import { registerStatuslineCommand } from './commands/statusline/index.js';
import { registerServeCommand } from './commands/serve/index.js';
import { registerMigrateCommand } from './commands/migrate/index.js';
import { registerTokenCommand } from './commands/token/index.js';
import { registerSimulate } from './simulate-hook.js';

/**
 * Mounts the `budget` command group on a commander program, so the larger `mosaic` CLI can include it.
 * @example
 * const program = new Command('mosaic');
 * registerBudgetCommand(program);
 * await program.parseAsync(process.argv);
 */
export function registerBudgetCommand(program: Command): Command {
  const budget = program
    .command('budget')
    .description('budget governance for a fleet of AI coding agents: pace, gate, report')
    .option('--api <url>', 'service URL (remote mode); env MOSAIC_BUDGET_URL')
    .option('--token <token>', 'bearer token for --api; env MOSAIC_BUDGET_TOKEN')
    .option('--data-dir <dir>', 'embedded database directory (local mode); env MOSAIC_BUDGET_DATA_DIR')
    .option('--tenant <id>', 'tenant for local mode (default "default"); env MOSAIC_BUDGET_TENANT')
    .option('--json', 'print JSON for scripts instead of tables');
  registerSetCommand(budget);
  registerStatusCommand(budget);
  registerGateCommand(budget);
  registerSignalCommand(budget);
  registerSpendCommand(budget);
  registerAuthorizeCommands(budget);
  registerPolicyCommand(budget);
  registerExplainCommand(budget);
  registerQueueCommand(budget);
  registerReportCommand(budget);
  registerImportCommand(budget);
  registerStatuslineCommand(budget);
  registerServeCommand(budget);
  registerMigrateCommand(budget);
  registerTokenCommand(budget);
  registerSimulate(budget);
  return budget;
}
