import type { Command } from 'commander';
import { lazyAction } from '../../action.js';
import { DEFAULT_IMPORT_TASK_CLASS } from './args.js';

function withImportFlags(cmd: Command, agent: string): Command {
  return cmd
    .requiredOption('--account <id>', 'account the usage belongs to')
    .option('--path <dir...>', 'log folder(s) to read instead of the default locations')
    .option('--agent <a>', 'agent to attribute the spend to', agent)
    .option('--host <h>', 'host to attribute the spend to (default this host)')
    .option('--mission <m>', 'mission to attribute the spend to')
    .option('--task-class <c>', 'task class of the imported spend', DEFAULT_IMPORT_TASK_CLASS)
    .option('--full', 'ignore remembered offsets and re-read every file (still idempotent)');
}

/** `mosaic budget import claude-code|codex`: read the agents' own usage logs into the ledger. */
export function registerImportCommand(budget: Command): void {
  const imp = budget.command('import').description("import the agents' own local usage logs into the ledger");
  withImportFlags(
    imp
      .command('claude-code')
      .description('Claude Code JSONL transcripts (~/.claude/projects, CLAUDE_CONFIG_DIR)'),
    'claude-code',
  ).action(lazyAction(async () => (await import('./entry.js')).runClaudeCode));
  withImportFlags(
    imp.command('codex').description('Codex CLI session logs (~/.codex/sessions, CODEX_HOME)'),
    'codex',
  ).action(lazyAction(async () => (await import('./entry.js')).runCodex));
}
