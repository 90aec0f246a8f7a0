/** What `statusline` needs from its command line: the global connection flags and its own. */
export interface StatuslineFlags {
  api?: string;
  token?: string;
  dataDir?: string;
  tenant?: string;
  json: boolean;
  account?: string;
}

type Valued = Exclude<keyof StatuslineFlags, 'json'>;

const GLOBAL: Readonly<Record<string, Valued>> = {
  '--api': 'api',
  '--token': 'token',
  '--data-dir': 'dataDir',
  '--tenant': 'tenant',
};

/**
 * Recognises `budget [global flags] statusline [--account A]` in the arguments after node and the
 * script, so the bin can run the status line without loading commander and the other commands.
 * Anything else — help, an unknown flag, a missing value or a missing --account — returns undefined
 * and goes through the full command line, which gives the same answer or the proper usage error.
 */
export function earlyStatuslineFlags(args: readonly string[]): StatuslineFlags | undefined {
  if (args[0] !== 'budget') return undefined;
  const flags: StatuslineFlags = { json: false };
  let command = false;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--json') {
      flags.json = true;
      continue;
    }
    if (arg === 'statusline' && !command) {
      command = true;
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    // Global flags may come before or after the command (commander's default); --account is the
    // command's own and is only valid after it.
    const key: Valued | undefined = GLOBAL[name] ?? (command && name === '--account' ? 'account' : undefined);
    if (key === undefined) return undefined;
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) return undefined;
    flags[key] = value;
  }
  // Without --account commander reports the missing required option, as for any other command.
  return command && flags.account !== undefined ? flags : undefined;
}
