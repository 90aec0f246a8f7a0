import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { ceilingPeriodBounds } from './ceiling-period.js';

const now = DateTime.fromISO('2026-11-25T03:00:00Z', { setZone: true }); // Tue 21:00 in Chicago

describe('ceilingPeriodBounds', () => {
  it('give the local day, the Monday week and the month in the account zone', () => {
    const d = ceilingPeriodBounds('P1D', 'America/Chicago', now);
    expect(d.start.toISO()).toBe('2026-11-24T00:00:00.000-06:00');
    expect(d.end.toISO()).toBe('2026-11-25T00:00:00.000-06:00');
    const w = ceilingPeriodBounds('P1W', 'America/Chicago', now);
    expect(w.start.toISO()).toBe('2026-11-23T00:00:00.000-06:00');
    expect(w.end.toISO()).toBe('2026-11-30T00:00:00.000-06:00');
    const m = ceilingPeriodBounds('P1M', 'UTC', now);
    expect(m.start.toISO()).toBe('2026-11-01T00:00:00.000Z');
    expect(m.end.toISO()).toBe('2026-12-01T00:00:00.000Z');
  });

  it('make a day across the DST change 25 hours long', () => {
    const d = ceilingPeriodBounds('P1D', 'America/Chicago', DateTime.fromISO('2026-11-01T12:00:00Z'));
    expect(d.end.diff(d.start, 'hours').hours).toBe(25);
  });
});
