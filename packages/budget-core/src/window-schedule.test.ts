import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime, Duration } from 'luxon';
import { addPeriods, currentWindow, shiftMs } from './window-schedule.js';
import { dec } from './money.js';

const CHICAGO = 'America/Chicago';
const week = { length: Duration.fromISO('P7D'), rolling: false };
const month = { length: Duration.fromISO('P1M'), rolling: false };
const session = { length: Duration.fromISO('PT5H'), rolling: true };
const at = (iso: string) => DateTime.fromISO(iso, { setZone: true });

// Up to ~4 years of weeks after the anchor: crosses every DST change several times.
const MAX_WEEKS_AHEAD = 200;
// Anchors within one year, so the property covers both DST directions and both hemispheres' zones.
const ANCHOR_DAYS = 365;
const ZONES = ['America/Chicago', 'Europe/Berlin', 'Australia/Sydney', 'America/Sao_Paulo', 'UTC'];

describe('currentWindow', () => {
  it('weekly reset at 17:00 local stays at 17:00 local across DST changes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: 0, max: ANCHOR_DAYS }),
        fc.integer({ min: 0, max: MAX_WEEKS_AHEAD }),
        fc.integer({ min: 0, max: 7 * 24 * 60 - 1 }),
        (zone, day, weeks, minute) => {
          const anchor = DateTime.fromObject({ year: 2026, month: 1, day: 2, hour: 17 }, { zone }).plus({
            days: day,
          });
          const now = anchor.plus({ weeks }).plus({ minutes: minute });
          const w = currentWindow(week, zone, { resetAt: anchor, confidence: 'user' }, now);
          const local = w.resetAt.setZone(zone);
          expect(local.hour).toBe(17);
          expect(local.minute).toBe(0);
          expect(local.weekday).toBe(anchor.weekday);
          expect(w.resetAt > now).toBe(true);
          expect(w.start <= now).toBe(true);
          expect(w.start.setZone(zone).hour).toBe(17);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('roll a weekly Chicago reset past the November DST change to 17:00 CST', () => {
    const w = currentWindow(
      week,
      CHICAGO,
      { resetAt: at('2026-10-30T17:00:00-05:00'), confidence: 'provider' },
      at('2026-11-04T12:00:00Z'),
    );
    expect(w.resetAt.toISO()).toBe('2026-11-06T17:00:00.000-06:00');
    expect(w.start.toISO()).toBe('2026-10-30T17:00:00.000-05:00');
    expect(w.confidence).toBe('estimated');
    expect(w.basis).toBe('rolled');
  });

  it('keep a monthly reset on day 31 clamped in short months without drifting', () => {
    const anchor = DateTime.fromObject({ year: 2026, month: 1, day: 31, hour: 0 }, { zone: CHICAGO });
    const feb = currentWindow(
      month,
      CHICAGO,
      { resetAt: anchor, confidence: 'user' },
      at('2026-02-10T00:00:00Z'),
    );
    expect(feb.resetAt.toISODate()).toBe('2026-02-28');
    const mar = currentWindow(
      month,
      CHICAGO,
      { resetAt: anchor, confidence: 'user' },
      at('2026-03-05T00:00:00Z'),
    );
    expect(mar.resetAt.toISODate()).toBe('2026-03-31');
    expect(mar.start.toISODate()).toBe('2026-02-28');
  });

  it('use a held future reset as it is', () => {
    const now = at('2026-11-25T09:00:00-06:00');
    const w = currentWindow(
      week,
      CHICAGO,
      { resetAt: at('2026-11-27T17:00:00-06:00'), confidence: 'provider' },
      now,
    );
    expect(w.resetAt.toISO()).toBe('2026-11-27T17:00:00.000-06:00');
    expect(w.start.toISO()).toBe('2026-11-20T17:00:00.000-06:00');
    expect(w.basis).toBe('held');
  });

  it('keep a reading from the last length when the held reset is more than one length ahead', () => {
    // The period of such a reset starts at now, which moves; the reading must not fall out of it.
    const held = {
      resetAt: at('2026-12-04T17:00:00-06:00'),
      confidence: 'user' as const,
      observedAt: at('2026-11-24T12:00:00Z'),
      usedPercent: dec(42),
    };
    for (const now of ['2026-11-24T12:00:00Z', '2026-11-24T13:00:00Z', '2026-11-27T12:00:00Z']) {
      const w = currentWindow(week, CHICAGO, held, at(now));
      expect(w.start.toMillis()).toBe(at(now).toMillis());
      expect(w.signalInWindow).toBe(true);
    }
    // A reading older than a whole length belongs to an earlier period.
    const old = { ...held, observedAt: at('2026-11-17T12:00:00Z') };
    expect(currentWindow(week, CHICAGO, old, at('2026-11-24T13:00:00Z')).signalInWindow).toBe(false);
    // Once the held reset is within one length, its period starts one length before it.
    const inside = currentWindow(week, CHICAGO, held, at('2026-11-28T12:00:00Z'));
    expect(inside.start.toISO()).toBe('2026-11-27T17:00:00.000-06:00');
    expect(inside.signalInWindow).toBe(false);
  });

  it('replace an unknown reset with the latest plausible one: observedAt + length when usage was seen', () => {
    const now = at('2026-11-25T12:00:00Z');
    const held = {
      resetAt: at('2026-11-26T00:00:00Z'),
      confidence: 'unknown' as const,
      observedAt: at('2026-11-25T10:00:00Z'),
      usedPercent: dec(30),
    };
    const w = currentWindow(week, 'UTC', held, now);
    expect(w.resetAt.toISO()).toBe('2026-12-02T10:00:00.000Z');
    expect(w.confidence).toBe('unknown');
    expect(w.signalInWindow).toBe(true);
    const none = currentWindow(
      week,
      'UTC',
      { confidence: 'unknown', observedAt: now, usedPercent: dec(0) },
      now,
    );
    expect(none.resetAt.toISO()).toBe('2026-12-02T12:00:00.000Z');
  });

  it('start a fresh rolling window when the previous one ended', () => {
    const now = at('2026-11-25T12:00:00Z');
    const w = currentWindow(
      session,
      'UTC',
      {
        confidence: 'provider',
        startedAt: at('2026-11-25T06:00:00Z'),
        observedAt: at('2026-11-25T08:00:00Z'),
        usedPercent: dec(50),
      },
      now,
    );
    expect(w.basis).toBe('fresh');
    expect(w.start.toMillis()).toBe(now.toMillis());
    expect(w.resetAt.toISO()).toBe('2026-11-25T17:00:00.000Z');
    expect(w.signalInWindow).toBe(false);
    const running = currentWindow(
      session,
      'UTC',
      {
        confidence: 'provider',
        startedAt: at('2026-11-25T09:00:00Z'),
        observedAt: at('2026-11-25T10:00:00Z'),
        usedPercent: dec(20),
      },
      now,
    );
    expect(running.resetAt.toISO()).toBe('2026-11-25T14:00:00.000Z');
    expect(running.signalInWindow).toBe(true);
  });

  it('mark a signal from before a rollover as outside the current window', () => {
    const w = currentWindow(
      week,
      'UTC',
      {
        resetAt: at('2026-11-20T00:00:00Z'),
        confidence: 'user',
        observedAt: at('2026-11-19T00:00:00Z'),
        usedPercent: dec(80),
      },
      at('2026-11-21T00:00:00Z'),
    );
    expect(w.resetAt.toISO()).toBe('2026-11-27T00:00:00.000Z');
    expect(w.signalInWindow).toBe(false);
  });
});

// More distinct (zone, anchor, k) triples per run than the memo holds, so it is cleared mid-run.
const SHIFT_CALLS = 700;
const LENGTHS = ['P7D', 'P1M', 'P1D', 'PT5H'].map((iso) => Duration.fromISO(iso));

describe('shiftMs', () => {
  it('answers from its memo exactly what luxon computes for the same shift, across DST changes and memo clears', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            length: fc.constantFrom(...LENGTHS),
            zone: fc.constantFrom(...ZONES),
            anchorMs: fc
              .integer({ min: 0, max: ANCHOR_DAYS * 86_400_000 })
              .map((d) => at('2026-01-01T00:00:00Z').toMillis() + d),
            k: fc.integer({ min: -2, max: MAX_WEEKS_AHEAD }),
          }),
          { minLength: SHIFT_CALLS, maxLength: SHIFT_CALLS },
        ),
        (calls) => {
          // Each shift twice: once computed (or found), once found, both equal to luxon's answer.
          for (const c of [...calls, ...calls]) {
            const direct = addPeriods(
              DateTime.fromMillis(c.anchorMs, { zone: c.zone }),
              c.length,
              c.k,
            ).toMillis();
            expect(shiftMs(c.length, c.zone, c.anchorMs, c.k)).toBe(direct);
          }
        },
      ),
      { numRuns: 5 },
    );
  });
});
