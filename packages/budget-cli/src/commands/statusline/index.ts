import type { Command } from 'commander';
import { lazyAction } from '../../action.js';

/** `mosaic budget statusline`: Claude Code's status-line command. */
export function registerStatuslineCommand(budget: Command): void {
  budget
    .command('statusline')
    .description("read Claude Code's status-line JSON on stdin, record its rate limits, print one line")
    .requiredOption('--account <id>', 'account this Claude Code session runs on')
    .addHelpText(
      'after',
      '\nIn ~/.claude/settings.json (remote mode keeps it fast):\n  "statusLine": { "type": "command", "command": "mosaic budget statusline --account max-a" }\n  with MOSAIC_BUDGET_URL and MOSAIC_BUDGET_TOKEN set in the environment.',
    )
    .action(lazyAction(async () => (await import('./run.js')).run));
}
