import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget gate`: ask before starting a task; the exit status carries the decision. */
export function registerGateCommand(budget: Command): void {
  budget
    .command('gate')
    .description('ask the dispatch gate; exit 0 allow/downgrade/reroute, 3 queue, 4 refuse')
    .requiredOption('--task <id>', 'task id (the idempotency key of the request)')
    .requiredOption('--class <taskClass>', 'task class, as in the policy')
    .requiredOption('--model <model>', 'model the task wants')
    .option('--estimate-tokens <n>', 'anticipated tokens')
    .option('--estimate-usd <n>', 'anticipated USD (wins over tokens)')
    .option('--account <id>', 'preferred account')
    .option('--urgency <u>', 'low | normal | high | critical', 'normal')
    .option('--deadline <when>', 'latest useful start: ISO-8601, "fri 17:00", "in 2h" …')
    .option('--mission <m>', 'mission the task belongs to')
    .option('--agent <a>', 'agent asking (env MOSAIC_BUDGET_AGENT)', process.env.MOSAIC_BUDGET_AGENT ?? 'cli')
    .option('--host <h>', 'host asking (default this host)')
    .option('--timezone <zone>', 'zone for --deadline texts without one (default local)')
    .action(lazyAction(async () => (await import('./run.js')).run));
}
