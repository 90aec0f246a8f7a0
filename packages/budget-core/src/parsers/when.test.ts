import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { parseWhen } from './when.js';
import { ParseInputError } from './parse-error.js';

// A Tuesday afternoon in Chicago (CST, UTC−6).
const now = DateTime.fromISO('2026-11-24T14:30:00-06:00', { setZone: true });
const chicago = { now, timezone: 'America/Chicago' };

describe('parseWhen', () => {
  it('reads ISO-8601 with an offset as that instant', () => {
    expect(parseWhen('2026-11-27T17:00:00Z', chicago).toISO()).toBe('2026-11-27T17:00:00.000Z');
    expect(parseWhen('2026-11-27T17:00-06:00', chicago).toUTC().toISO()).toBe('2026-11-27T23:00:00.000Z');
  });

  it('reads ISO-8601 without an offset in the given zone', () => {
    expect(parseWhen('2026-11-27T17:00', chicago).toUTC().toISO()).toBe('2026-11-27T23:00:00.000Z');
    expect(parseWhen('2026-11-27 17:00', chicago).toUTC().toISO()).toBe('2026-11-27T23:00:00.000Z');
  });

  it('reads a date, a time and an IANA zone', () => {
    const dt = parseWhen('2026-12-01 09:00 Europe/Berlin', chicago);
    expect(dt.toUTC().toISO()).toBe('2026-12-01T08:00:00.000Z');
    expect(dt.zoneName).toBe('Europe/Berlin');
    expect(parseWhen('2026-07-01 9:30 Europe/Berlin', chicago).toUTC().toISO()).toBe(
      '2026-07-01T07:30:00.000Z',
    );
  });

  it('reads "fri 17:00" as the next Friday 17:00 in the zone', () => {
    expect(parseWhen('fri 17:00', chicago).toISO()).toBe('2026-11-27T17:00:00.000-06:00');
    expect(parseWhen('Friday 17:00', chicago).toISO()).toBe('2026-11-27T17:00:00.000-06:00');
  });

  it('reads a weekday time later today as today, and earlier today as next week', () => {
    expect(parseWhen('tue 15:00', chicago).toISO()).toBe('2026-11-24T15:00:00.000-06:00');
    expect(parseWhen('tue 14:30', chicago).toISO()).toBe('2026-12-01T14:30:00.000-06:00');
  });

  it('reads a weekday time with its own zone', () => {
    expect(parseWhen('wed 09:00 Europe/Berlin', chicago).toUTC().toISO()).toBe('2026-11-25T08:00:00.000Z');
  });

  it('reads relative times in elapsed time', () => {
    expect(parseWhen('in 3d4h', chicago).diff(now).as('hours')).toBe(76);
    expect(parseWhen('in 90m', chicago).diff(now).as('minutes')).toBe(90);
    expect(parseWhen('in 2w', chicago).diff(now).as('days')).toBe(14);
  });

  it('a relative time across a DST change is still exact elapsed time', () => {
    const beforeDst = DateTime.fromISO('2026-03-07T12:00:00-06:00', { setZone: true });
    const dt = parseWhen('in 1d', { now: beforeDst, timezone: 'America/Chicago' });
    expect(dt.diff(beforeDst).as('hours')).toBe(24);
    expect(dt.toISO()).toBe('2026-03-08T13:00:00.000-05:00');
  });

  it.each([
    ['', 'empty'],
    ['tomorrow', 'none of the accepted forms'],
    ['in 3 days', '"in" followed by amounts'],
    ['fry 17:00', 'not a weekday'],
    ['fri 25:00', 'HH:MM'],
    ['2026-13-01', 'not valid'],
    ['2026-12-01 09:00 Mars/Olympus', 'not an IANA time zone'],
    ['1999-01-01T00:00Z', 'outside'],
  ])('rejects %j with a clear message', (text, why) => {
    let err: unknown;
    try {
      parseWhen(text, chicago);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseInputError);
    expect((err as ParseInputError).code).toBe('BUDGET_ERR_INVALID_WHEN');
    expect((err as Error).message).toContain(why);
  });

  it('a weekday form always lands strictly after now and within seven days', () => {
    // Any instant within a century of 2000; any weekday and wall-clock time; a few zones with DST.
    const zones = ['UTC', 'America/Chicago', 'Europe/Berlin', 'Australia/Lord_Howe'];
    const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    fc.assert(
      fc.property(
        fc.integer({ min: 946_684_800, max: 4_102_444_800 }),
        fc.constantFrom(...days),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.constantFrom(...zones),
        (secs, day, h, m, timezone) => {
          const at = DateTime.fromSeconds(secs, { zone: 'utc' });
          const text = `${day} ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
          const dt = parseWhen(text, { now: at, timezone });
          expect(dt > at).toBe(true);
          expect(dt.diff(at).as('days')).toBeLessThanOrEqual(7 + 1 / 24);
          expect(dt.weekday).toBe(days.indexOf(day) + 1);
        },
      ),
    );
  });
});
