import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget policy show|apply|init`. */
export function registerPolicyCommand(budget: Command): void {
  const policy = budget.command('policy').description('the fleet policy as a YAML or JSON file kept in git');
  policy
    .command('show')
    .description('print the live policy (YAML; --json for JSON)')
    .action(lazyAction(async () => (await import('./run.js')).runShow));
  policy
    .command('apply')
    .description('validate a policy file and make it the live policy')
    .argument('<file>', 'policy file (.yaml, .yml or .json)')
    .option('--dry-run', 'validate and print the difference against the live policy; change nothing')
    .action(lazyAction(async () => (await import('./run.js')).runApply));
  policy
    .command('init')
    .description('write a commented starter policy (two Claude subscriptions, one Codex plan, one API key)')
    .option('--out <file>', 'where to write it ("-" for stdout)', 'budget-policy.yaml')
    .option('--force', 'overwrite an existing file')
    .action(lazyAction(async () => (await import('./run.js')).runInit));
}
