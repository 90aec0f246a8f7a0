import { describe, expect, it } from 'vitest';
import { earlyStatuslineFlags } from './args.js';

describe('earlyStatuslineFlags (the bin reads these before loading commander)', () => {
  it('reads global flags before and after the command, in both spellings, and --account after it', () => {
    expect(
      earlyStatuslineFlags([
        'budget',
        '--api',
        'http://h:1',
        '--token=t',
        'statusline',
        '--account',
        'max-a',
        '--json',
        '--data-dir=/d',
        '--tenant',
        'acme',
      ]),
    ).toEqual({ api: 'http://h:1', token: 't', account: 'max-a', json: true, dataDir: '/d', tenant: 'acme' });
    expect(earlyStatuslineFlags(['budget', 'statusline', '--account=a'])).toEqual({
      json: false,
      account: 'a',
    });
  });

  it('leaves everything else to commander: other commands, help, unknown flags, missing values', () => {
    for (const args of [
      ['budget', 'status'],
      ['budget', 'statusline', '--help'],
      ['budget', 'statusline', '-h'],
      ['budget', 'statusline', '--acount', 'x'],
      ['budget', '--account', 'x', 'statusline'],
      ['budget', 'statusline', '--account'],
      ['budget', 'statusline'],
      ['budget', 'statusline', 'extra'],
      ['budget'],
      ['statusline'],
      [],
    ]) {
      expect(earlyStatuslineFlags(args)).toBeUndefined();
    }
  });
});
