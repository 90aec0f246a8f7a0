import type { GlobalFlags } from './context.js';

// The global flags of `mosaic budget` (declared in budget-command.ts), by their spelling.
const GLOBAL: Readonly<Record<string, Exclude<keyof GlobalFlags, 'json'>>> = {
  '--api': 'api',
  '--token': 'token',
  '--data-dir': 'dataDir',
  '--tenant': 'tenant',
};

/** The command line shape of one command the bin may run before loading commander. */
export interface EarlyShape {
  /** The command's words after `budget`, each a set of accepted spellings (`[['import'], ['claude-code', 'codex']]`). */
  words: readonly (readonly string[])[];
  /** The command's own flags that take one value, by spelling, to the key commander gives them. */
  own: Readonly<Record<string, string>>;
  /** Own flags that take every following argument up to the next flag (commander's `<x...>`), to their key. */
  variadic?: Readonly<Record<string, string>>;
}

/** A command line read before commander: the command's words, its global flags and its own. */
export interface EarlyCommand {
  words: string[];
  globals: GlobalFlags;
  flags: Record<string, string | string[]>;
}

/**
 * Reads `budget [global flags] <words> [own flags]` from the arguments after node and the script, so
 * the bin can run a command whose start must be fast without loading commander and every other
 * command. It only accepts what commander reads the same way (a property test holds it to that):
 * global flags anywhere, `--json` anywhere, own flags after the words, `--flag value` or
 * `--flag=value`. Anything unusual — help, a short or unknown flag, a repeated one, a value that
 * looks like a flag, a stray argument, `--variadic=…` — returns undefined, and the full command line
 * decides and explains, exactly as it would have.
 */
export function readEarly(args: readonly string[], shape: EarlyShape): EarlyCommand | undefined {
  if (args[0] !== 'budget') return undefined;
  const globals: GlobalFlags = {};
  const flags: Record<string, string | string[]> = {};
  const words: string[] = [];
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--json') {
      globals.json = true;
      continue;
    }
    const expected = shape.words[words.length];
    if (expected?.includes(arg)) {
      words.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) return undefined;
    const complete = words.length === shape.words.length;
    const variadic =
      complete && shape.variadic && Object.hasOwn(shape.variadic, arg) ? shape.variadic[arg] : undefined;
    if (variadic !== undefined) {
      if (flags[variadic] !== undefined) return undefined;
      const values: string[] = [];
      while (i + 1 < args.length && !(args[i + 1] ?? '').startsWith('-')) values.push(args[++i] ?? '');
      if (values.length === 0) return undefined;
      flags[variadic] = values;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value.startsWith('-')) return undefined;
    const global = Object.hasOwn(GLOBAL, name) ? GLOBAL[name] : undefined;
    if (global !== undefined) {
      if (globals[global] !== undefined) return undefined;
      globals[global] = value;
      continue;
    }
    const own = complete && Object.hasOwn(shape.own, name) ? shape.own[name] : undefined;
    if (own === undefined || flags[own] !== undefined) return undefined;
    flags[own] = value;
  }
  return words.length === shape.words.length ? { words, globals, flags } : undefined;
}
