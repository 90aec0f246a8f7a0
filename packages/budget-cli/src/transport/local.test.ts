import { describe, expect, it } from 'vitest';
import { lockedHint, lockedOrRethrow } from './local.js';
import { CliError } from '../errors.js';

describe('the locked data directory hint', () => {
  it('names the URL the holding serve recorded', () => {
    expect(
      lockedHint({ pid: 1, command: 'node bin.js budget serve --port 18787', url: 'http://127.0.0.1:18787' }),
    ).toContain('--api http://127.0.0.1:18787 --token <token>');
  });

  it('never guesses a port: a serve without a recorded URL gets a placeholder, another command no URL', () => {
    const starting = lockedHint({ pid: 1, command: 'node bin.js budget serve' });
    expect(starting).toContain('--api <its URL>');
    expect(starting).not.toContain('8787');
    expect(lockedHint({ pid: 1, command: 'node bin.js budget status' })).toMatch(
      /another mosaic budget command/,
    );
    expect(lockedHint(undefined)).not.toContain('8787');
  });

  it('turns the service lock error into exit 6 with the holder in the details', () => {
    const error = Object.assign(new Error('the data directory /d is in use by pid 7 with --url'), {
      code: 'BUDGET_ERR_DATA_DIR_LOCKED',
      extra: { holder: { pid: 7, command: 'serve', url: 'http://127.0.0.1:1234' } },
    });
    const mapped = lockedOrRethrow(error);
    expect(mapped).toBeInstanceOf(CliError);
    expect((mapped as CliError).exitStatus).toBe(6);
    expect((mapped as CliError).hint).toContain('http://127.0.0.1:1234');
    expect((mapped as CliError).message).not.toContain('--url');
  });
});
