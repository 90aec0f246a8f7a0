import { describe, expect, it } from 'vitest';
import { earlyImportFlags } from './args.js';

describe('earlyImportFlags (the bin reads these before loading commander)', () => {
  it("reads the global flags anywhere, the command's own after it, and fills commander's defaults", () => {
    expect(
      earlyImportFlags([
        'budget',
        '--data-dir',
        '/d',
        'import',
        'claude-code',
        '--account',
        'max-a',
        '--path',
        '/a',
        '/b',
        '--json',
        '--host=h1',
      ]),
    ).toEqual({
      source: 'claude-code',
      globals: { dataDir: '/d', json: true },
      flags: {
        account: 'max-a',
        path: ['/a', '/b'],
        host: 'h1',
        agent: 'claude-code',
        taskClass: 'unclassified',
      },
    });
    expect(earlyImportFlags(['budget', 'import', 'codex', '--account=x', '--agent', 'pi'])?.flags).toEqual({
      account: 'x',
      agent: 'pi',
      taskClass: 'unclassified',
    });
  });

  it('leaves everything unusual to commander', () => {
    for (const args of [
      ['budget', 'import', 'claude-code'],
      ['budget', 'import', 'claude-code', '--account', 'a', '--full'],
      ['budget', 'import', 'claude-code', '--account', 'a', '--help'],
      ['budget', 'import', 'claude-code', '--account', 'a', '-h'],
      ['budget', 'import', 'claude-code', '--account', 'a', '--path'],
      ['budget', 'import', 'claude-code', '--account', 'a', '--path=/x'],
      ['budget', 'import', 'claude-code', '--account', 'a', '--account', 'b'],
      ['budget', 'import', 'claude-code', '--account', '--json'],
      ['budget', 'import', '--account', 'a', 'claude-code'],
      ['budget', 'import', 'claude-code', '--account', 'a', 'extra'],
      ['budget', 'import', 'gemini', '--account', 'a'],
      ['budget', 'status'],
      ['import', 'claude-code', '--account', 'a'],
      [],
    ]) {
      expect(earlyImportFlags(args), args.join(' ')).toBeUndefined();
    }
  });
});
