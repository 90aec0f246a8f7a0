import type { GlobalFlags } from '../../context.js';
import { readEarly } from '../../early-argv.js';

/** What the quick path of `import` needs from its command line, shaped as commander would give it. */
export interface EarlyImport {
  source: 'claude-code' | 'codex';
  globals: GlobalFlags;
  /** The command's own flags with commander's defaults (agent, task class) filled in. */
  flags: Record<string, unknown>;
}

/** The task class imported spend is attributed to without `--task-class` (commander's default too). */
export const DEFAULT_IMPORT_TASK_CLASS = 'unclassified';

const SHAPE = {
  words: [['import'], ['claude-code', 'codex']],
  own: {
    '--account': 'account',
    '--agent': 'agent',
    '--host': 'host',
    '--mission': 'mission',
    '--task-class': 'taskClass',
  },
  // `--full` is not here: a full re-read is never answered from metadata, so it goes through commander.
  variadic: { '--path': 'path' },
} as const;

/**
 * Recognises `budget [global flags] import claude-code|codex --account A [its flags]` (see
 * {@link readEarly}), so the bin can answer an import with nothing new before loading commander.
 */
export function earlyImportFlags(args: readonly string[]): EarlyImport | undefined {
  const early = readEarly(args, SHAPE);
  if (early?.flags.account === undefined) return undefined;
  const source = early.words[1] === 'codex' ? 'codex' : 'claude-code';
  return {
    source,
    globals: early.globals,
    flags: { agent: source, taskClass: DEFAULT_IMPORT_TASK_CLASS, ...early.flags },
  };
}
