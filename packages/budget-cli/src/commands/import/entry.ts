import type { Runner } from '../../action.js';
import { checkedAlready, nothingNew } from './quick.js';
import { print } from './summary.js';

// The runners load the importer (zod, the core, the service) only when there is something to import,
// and ask only when the bin's quick path has not asked already.

/** `import claude-code`. */
export const runClaudeCode: Runner = async (ctx, raw) => {
  const quick = checkedAlready('claude-code') ? undefined : await nothingNew(ctx, 'claude-code', raw);
  if (quick) return print(ctx, quick);
  const { importLogs } = await import('./run.js');
  const { claudeCode } = await import('./sources.js');
  print(ctx, await importLogs(ctx, claudeCode, raw));
};

/** `import codex`. */
export const runCodex: Runner = async (ctx, raw) => {
  const quick = checkedAlready('codex') ? undefined : await nothingNew(ctx, 'codex', raw);
  if (quick) return print(ctx, quick);
  const { importLogs } = await import('./run.js');
  const { codex } = await import('./sources.js');
  print(ctx, await importLogs(ctx, codex, raw));
};
