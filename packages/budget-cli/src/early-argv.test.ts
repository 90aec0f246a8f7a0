import { Command } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { registerBudgetCommand } from './budget-command.js';
import { earlyImportFlags } from './commands/import/args.js';
import { earlyStatuslineFlags } from './commands/statusline/args.js';

// Thrown from commander's preAction hook: the parse is captured and the action never runs.
class Parsed extends Error {
  constructor(
    readonly command: string,
    readonly globals: Record<string, unknown>,
    readonly flags: Record<string, unknown>,
  ) {
    super('parsed');
  }
}

/** What commander makes of `args`, without running the command; undefined if it refuses. */
function commanderReads(args: string[]): Parsed | undefined {
  const program = new Command('mosaic').exitOverride().configureOutput({
    writeOut: () => undefined,
    writeErr: () => undefined,
  });
  program.hook('preAction', (_root, action) => {
    const all = action.optsWithGlobals<Record<string, unknown>>();
    const globals = Object.fromEntries(
      ['api', 'token', 'dataDir', 'tenant', 'json'].flatMap((k) =>
        all[k] === undefined ? [] : [[k, all[k]]],
      ),
    );
    throw new Parsed(action.name(), globals, action.opts());
  });
  registerBudgetCommand(program);
  for (const c of program.commands) c.exitOverride();
  try {
    program.parse(['node', 'mosaic', ...args]);
  } catch (caught) {
    if (caught instanceof Parsed) return caught;
    return undefined;
  }
  return undefined;
}

/** What the bin reads early from `args`, shaped as commander's parse: the command, globals and flags. */
function earlyRead(
  args: string[],
): { command: string; globals: Record<string, unknown>; flags: Record<string, unknown> } | undefined {
  const imp = earlyImportFlags(args);
  if (imp) return { command: imp.source, globals: { ...imp.globals }, flags: imp.flags };
  const line = earlyStatuslineFlags(args);
  if (!line) return undefined;
  const { account, json, ...globals } = line;
  return { command: 'statusline', globals: json ? { ...globals, json } : globals, flags: { account } };
}

describe('the command lines the bin reads before commander', () => {
  it('whatever the bin reads early, commander reads the same way', () => {
    const word = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('a', 'max-a', '/tmp/x', 'h 1', 'x=y') },
      { weight: 1, arbitrary: fc.constantFrom('-', '-z', '', 'import', 'codex', '--json') },
    );
    const flag = fc.constantFrom(
      '--api',
      '--token',
      '--data-dir',
      '--tenant',
      '--account',
      '--agent',
      '--host',
      '--mission',
      '--task-class',
      '--path',
    );
    const token = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(flag, word) },
      { weight: 2, arbitrary: fc.constant(['--json']) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('--path'), word, word) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom('--account=', '--data-dir=', '--path=', '--tenant=', '--host='), word)
          .map(([f, v]) => [f + v]),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          ['budget'],
          ['import'],
          ['claude-code'],
          ['codex'],
          ['statusline'],
          ['--full'],
          ['--help'],
          ['extra'],
          ['--acount', 'a'],
        ),
      },
    );
    const prefix = fc.constantFrom(
      ['budget', 'import', 'claude-code'],
      ['budget', 'import', 'codex'],
      ['budget', '--json', 'import', 'codex'],
      ['budget', '--data-dir', '/d', 'import', 'claude-code'],
      ['budget', 'statusline'],
      ['budget', '--api', 'http://h:1', 'statusline'],
      ['budget'],
    );
    // Most command lines name an account somewhere, or nothing would ever take the early path.
    const account = fc.option(fc.tuple(fc.constant('--account'), word), { freq: 5 });
    let accepted = 0;
    fc.assert(
      fc.property(prefix, fc.array(token, { maxLength: 6 }), account, fc.nat(6), (head, tail, acct, at) => {
        const parts = acct === null ? tail : [...tail.slice(0, at), acct, ...tail.slice(at)];
        const args = [...head, ...parts.flat()];
        const early = earlyRead(args);
        if (early === undefined) return;
        accepted++;
        const parsed = commanderReads(args);
        expect(parsed, args.join(' ')).toBeDefined();
        expect(parsed?.command).toBe(early.command);
        expect(parsed?.globals).toEqual(early.globals);
        expect(parsed?.flags).toEqual(early.flags);
      }),
      { numRuns: 3000 },
    );
    // Not vacuous: a good share of the generated command lines take an early path.
    expect(accepted).toBeGreaterThan(300);
  });
});
