import { describe, expect, it } from 'vitest';
import { stepInWords } from './words.js';

describe('explain in plain words', () => {
  it('says how far ahead of pace a window is', () => {
    expect(
      stepInWords(
        {
          rule: 'window.state',
          outcome: 'info',
          account: 'max-a',
          window: 'weekly',
          numbers: { used: '42', ideal: '35.9', headroom: '0' },
        },
        'UTC',
      ),
    ).toBe('max-a weekly is 6.1% ahead of pace (used 42%, ideal 35.9%, 0% headroom)');
  });

  it('says when a model has headroom again, in the given zone', () => {
    expect(
      stepInWords(
        {
          rule: 'queue.earliest',
          outcome: 'fail',
          account: 'max-b',
          model: 'claude-sonnet-4',
          numbers: { retryAt: '2026-11-27T23:00:00Z' },
        },
        'America/Chicago',
      ),
    ).toBe('max-b has no claude-sonnet-4 headroom until Fri 17:00 CST');
  });

  it('falls back to the rule and its note', () => {
    expect(
      stepInWords({ rule: 'candidate', outcome: 'fail', account: 'k', note: 'over the ceiling' }, 'UTC'),
    ).toBe('candidate fails for k: over the ceiling');
  });
});
