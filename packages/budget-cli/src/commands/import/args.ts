import type { GlobalFlags } from '../../context.js';

/** What the quick path of `import` needs from its command line, shaped as commander would give it. */
export interface EarlyImport {
  source: 'claude-code' | 'codex';
  globals: GlobalFlags;
  /** The command's own flags with commander's defaults (agent, task class) filled in. */
  flags: Record<string, unknown>;
}

const GLOBAL: Readonly<Record<string, Exclude<keyof GlobalFlags, 'json'>>> = {
  '--api': 'api',
  '--token': 'token',
  '--data-dir': 'dataDir',
  '--tenant': 'tenant',
};

const OWN: Readonly<Record<string, string>> = {
  '--account': 'account',
  '--agent': 'agent',
  '--host': 'host',
  '--mission': 'mission',
  '--task-class': 'taskClass',
};

/**
 * Recognises `budget [global flags] import claude-code|codex [its flags]` in the arguments after node
 * and the script, so the bin can answer an import with nothing new before loading commander. It only
 * ever accepts what commander reads the same way: anything unusual — help, `--full`, an unknown or
 * repeated flag, a value that looks like a flag, `--path=…`, a stray argument, a missing --account —
 * returns undefined and the full command line decides (and explains).
 */
export function earlyImportFlags(args: readonly string[]): EarlyImport | undefined {
  if (args[0] !== 'budget') return undefined;
  const globals: GlobalFlags = {};
  const flags: Record<string, unknown> = {};
  let stage: 'budget' | 'import' | 'source' = 'budget';
  let source: EarlyImport['source'] | undefined;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--json') {
      globals.json = true;
      continue;
    }
    if (stage === 'budget' && arg === 'import') {
      stage = 'import';
      continue;
    }
    if (stage === 'import' && (arg === 'claude-code' || arg === 'codex')) {
      source = arg;
      stage = 'source';
      continue;
    }
    if (!arg.startsWith('--')) return undefined;
    if (stage === 'source' && arg === '--path') {
      // Variadic, as commander reads it: every following argument up to the next flag.
      if (flags.path !== undefined) return undefined;
      const paths: string[] = [];
      while (i + 1 < args.length && !(args[i + 1] ?? '').startsWith('-')) paths.push(args[++i] ?? '');
      if (paths.length === 0) return undefined;
      flags.path = paths;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value.startsWith('-')) return undefined;
    const global = GLOBAL[name];
    if (global !== undefined) {
      if (globals[global] !== undefined) return undefined;
      globals[global] = value;
      continue;
    }
    const own = stage === 'source' && Object.hasOwn(OWN, name) ? OWN[name] : undefined;
    if (own === undefined || flags[own] !== undefined) return undefined;
    flags[own] = value;
  }
  if (source === undefined || flags.account === undefined) return undefined;
  return { source, globals, flags: { agent: source, taskClass: 'unclassified', ...flags } };
}
