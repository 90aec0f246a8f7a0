import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

function addSpendFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--account <id>', 'account spent on')
    .requiredOption('--model <model>', 'model')
    .requiredOption('--task <id>', 'task')
    .option('--mission <m>', 'mission')
    .option('--task-class <c>', 'task class', 'unclassified')
    .option('--input-tokens <n>', 'input tokens, cached excluded', '0')
    .option('--output-tokens <n>', 'output tokens', '0')
    .option('--cache-read-tokens <n>', 'cache read tokens', '0')
    .option('--cache-write-tokens <n>', 'cache write tokens', '0')
    .option('--usd <n>', 'USD (default: priced from the policy price table)')
    .option('--at <when>', 'when it happened (default now)')
    .option('--idempotency-key <k>', 'key that makes a retry safe (default derived from the content)')
    .option('--agent <a>', 'agent (env MOSAIC_BUDGET_AGENT)', process.env.MOSAIC_BUDGET_AGENT ?? 'cli')
    .option('--host <h>', 'host (default this host)')
    .option('--timezone <zone>', 'zone for --at texts without one (default local)');
}

/** `mosaic budget spend record|project`: write actual or projected spend for a task. */
export function registerSpendCommand(budget: Command): void {
  const spend = budget.command('spend').description('write spend to the ledger');
  addSpendFlags(spend.command('record').description('record actual spend of a task')).action(
    lazyAction(async () => (await import('./run.js')).runRecord),
  );
  addSpendFlags(spend.command('project').description('record projected (expected) spend of a task')).action(
    lazyAction(async () => (await import('./run.js')).runProject),
  );
}
