import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { applyResetPrecedence } from './reset-precedence.js';
import { CONFIDENCES, confidenceRank } from './confidence.js';

const NOW = DateTime.fromISO('2026-11-25T12:00:00Z', { setZone: true });
// Offsets within ±14 days of now cover past and future resets of any weekly window.
const MAX_OFFSET_MIN = 14 * 24 * 60;
const reset = fc.record({
  resetAt: fc.integer({ min: -MAX_OFFSET_MIN, max: MAX_OFFSET_MIN }).map((m) => NOW.plus({ minutes: m })),
  confidence: fc.constantFrom(...CONFIDENCES),
});

describe('applyResetPrecedence', () => {
  it('a lower confidence never overwrites a higher one while the held reset is ahead', () => {
    fc.assert(
      fc.property(reset, reset, (held, incoming) => {
        const r = applyResetPrecedence(held, incoming, NOW);
        if (held.resetAt > NOW && confidenceRank(incoming.confidence) < confidenceRank(held.confidence)) {
          expect(r.kept).toBe('held');
          expect(r.resetAt).toBe(held.resetAt);
        }
        if (held.resetAt <= NOW) expect(r.kept).toBe('incoming');
      }),
      { numRuns: 300 },
    );
  });

  it('keep a user reset against a provider one, take a provider one over an estimate', () => {
    const fri = NOW.plus({ days: 2 });
    const sat = NOW.plus({ days: 3 });
    expect(
      applyResetPrecedence(
        { resetAt: fri, confidence: 'user' },
        { resetAt: sat, confidence: 'provider' },
        NOW,
      ),
    ).toMatchObject({ kept: 'held', rule: 'lower-confidence' });
    expect(
      applyResetPrecedence(
        { resetAt: fri, confidence: 'estimated' },
        { resetAt: sat, confidence: 'provider' },
        NOW,
      ),
    ).toMatchObject({ kept: 'incoming', rule: 'higher-confidence' });
    expect(
      applyResetPrecedence(
        { resetAt: fri, confidence: 'provider' },
        { resetAt: sat, confidence: 'provider' },
        NOW,
      ),
    ).toMatchObject({ kept: 'incoming', rule: 'same-confidence-newer' });
    expect(applyResetPrecedence(undefined, { resetAt: sat, confidence: 'unknown' }, NOW)).toMatchObject({
      kept: 'incoming',
      rule: 'no-held',
    });
  });

  it('let a passed held reset give way and ignore a passed incoming one', () => {
    const past = NOW.minus({ hours: 1 });
    const fut = NOW.plus({ days: 6 });
    expect(
      applyResetPrecedence(
        { resetAt: past, confidence: 'user' },
        { resetAt: fut, confidence: 'estimated' },
        NOW,
      ),
    ).toMatchObject({ kept: 'incoming', rule: 'held-passed' });
    expect(
      applyResetPrecedence(
        { resetAt: fut, confidence: 'unknown' },
        { resetAt: past, confidence: 'user' },
        NOW,
      ),
    ).toMatchObject({ kept: 'held', rule: 'incoming-passed' });
  });
});
