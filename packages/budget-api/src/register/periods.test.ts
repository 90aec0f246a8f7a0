import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { ceilingPeriodBounds, type CeilingPeriod } from '@mosaic/budget-core';
import { periodAt } from './periods.js';

const ZONES = ['UTC', 'America/Chicago', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
const PERIODS: CeilingPeriod[] = ['P1D', 'P1W', 'P1M'];

describe('periodAt', () => {
  it('agrees with the core at every instant, whatever was asked before (DST days included)', () => {
    // Instants spread over two years, so the memo is hit, missed and evicted across DST changes.
    const base = DateTime.fromISO('2026-01-01T00:00:00Z').toMillis();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            period: fc.constantFrom(...PERIODS),
            zone: fc.constantFrom(...ZONES),
            offsetMs: fc.integer({ min: 0, max: 2 * 365 * 86_400_000 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (asks) => {
          for (const a of asks) {
            const at = DateTime.fromMillis(base + a.offsetMs, { zone: 'utc' });
            const got = periodAt(a.period, a.zone, at);
            const want = ceilingPeriodBounds(a.period, a.zone, at);
            expect(got.start.toMillis()).toBe(want.start.toMillis());
            expect(got.end.toMillis()).toBe(want.end.toMillis());
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns the period boundaries themselves at their edges', () => {
    const start = DateTime.fromISO('2026-03-08T00:00:00', { zone: 'America/Chicago' });
    expect(periodAt('P1D', 'America/Chicago', start).start.toMillis()).toBe(start.toMillis());
    const justBefore = start.minus({ milliseconds: 1 });
    expect(periodAt('P1D', 'America/Chicago', justBefore).end.toMillis()).toBe(start.toMillis());
    // The DST day lasts 23 hours.
    const day = periodAt('P1D', 'America/Chicago', start.plus({ hours: 12 }));
    expect(day.end.toMillis() - day.start.toMillis()).toBe(23 * 3_600_000);
  });
});
