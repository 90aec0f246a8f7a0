import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { dec } from './money.js';
import { CONFIDENCES } from './confidence.js';
import type { UsageSignal } from './signal.js';
import { foldSignal, type HeldReading } from './signal-fold.js';

const NOW = DateTime.fromISO('2026-11-25T12:00:00Z', { setZone: true });
const at = (minutes: number) => NOW.plus({ minutes });
const signal = (minutes: number, extra: Partial<UsageSignal> = {}): UsageSignal => ({
  account: 'a',
  window: 'weekly',
  usedPercent: dec('40'),
  observedAt: at(minutes),
  confidence: 'provider',
  ...extra,
});

describe('foldSignal', () => {
  it('takes a newer reading and keeps the held one against an older or equal one', () => {
    const held: HeldReading = { observedAt: at(-10), confidence: 'unknown' };
    expect(foldSignal(held, signal(-5), NOW, false)).toMatchObject({
      newer: true,
      held: { observedAt: at(-5) },
    });
    expect(foldSignal(held, signal(-20), NOW, false)).toMatchObject({ newer: false, held });
    expect(foldSignal(held, signal(-10), NOW, false).newer).toBe(false);
    expect(foldSignal(undefined, signal(-20), NOW, false)).toMatchObject({
      newer: true,
      held: { observedAt: at(-20) },
    });
  });

  it('takes a reading from after the clock as observed now, and a retry of it as stale', () => {
    const first = foldSignal({ observedAt: at(-10), confidence: 'unknown' }, signal(10), NOW, false);
    expect(first).toMatchObject({ newer: true, clampedTo: NOW, held: { observedAt: NOW } });
    // A second clamped reading of the same batch shares `now` and is the newer one.
    expect(foldSignal(first.held, signal(20), NOW, false).newer).toBe(true);
    expect(foldSignal(first.held, signal(10), NOW, true)).toMatchObject({ newer: false, clampedTo: NOW });
  });

  it('merges the reset by the precedence rule whether or not the reading was newer', () => {
    const held: HeldReading = { observedAt: at(-10), resetAt: at(600), confidence: 'user' };
    const older = foldSignal(held, signal(-20, { resetAt: at(900), confidence: 'provider' }), NOW, false);
    expect(older).toMatchObject({ newer: false, reset: { kept: 'held', rule: 'lower-confidence' }, held });
    const first = foldSignal(undefined, signal(-20, { resetAt: at(900) }), NOW, false);
    expect(first).toMatchObject({
      reset: { kept: 'incoming', rule: 'no-held' },
      held: { resetAt: at(900), confidence: 'provider' },
    });
  });

  it('property: the held instant never goes back and never passes the clock, whatever the order', () => {
    const sent = fc.record({
      minutes: fc.integer({ min: -600, max: 60 }),
      reset: fc.option(fc.integer({ min: -600, max: 20_000 }), { nil: undefined }),
      confidence: fc.constantFrom(...CONFIDENCES),
      repeated: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(sent, { maxLength: 20 }), (signals) => {
        let held: HeldReading | undefined;
        for (const x of signals) {
          const s = signal(x.minutes, {
            confidence: x.confidence,
            ...(x.reset === undefined ? {} : { resetAt: at(x.reset) }),
          });
          const f = foldSignal(held, s, NOW, x.repeated);
          if (held) expect(f.held.observedAt.toMillis()).toBeGreaterThanOrEqual(held.observedAt.toMillis());
          expect(f.held.observedAt.toMillis()).toBeLessThanOrEqual(NOW.toMillis());
          if (f.newer)
            expect(f.held.observedAt.toMillis()).toBe(Math.min(s.observedAt.toMillis(), NOW.toMillis()));
          held = f.held;
        }
      }),
      { numRuns: 300 },
    );
  });
});
