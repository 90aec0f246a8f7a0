import { readEarly } from '../../early-argv.js';

/** What `statusline` needs from its command line: the global connection flags and its own. */
export interface StatuslineFlags {
  api?: string;
  token?: string;
  dataDir?: string;
  tenant?: string;
  json: boolean;
  account?: string;
}

const SHAPE = { words: [['statusline']], own: { '--account': 'account' } } as const;

/**
 * Recognises `budget [global flags] statusline --account A` (see {@link readEarly}), so the bin can
 * run the status line without loading commander and the other commands. Without --account commander
 * reports the missing required option, as for any other command.
 */
export function earlyStatuslineFlags(args: readonly string[]): StatuslineFlags | undefined {
  const early = readEarly(args, SHAPE);
  const account = early?.flags.account;
  if (early === undefined || typeof account !== 'string') return undefined;
  return { ...early.globals, json: early.globals.json === true, account };
}
