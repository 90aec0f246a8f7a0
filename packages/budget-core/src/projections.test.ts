import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { dec } from './money.js';
import {
  burnRateUsdPerHour,
  projectWindow,
  projectedVsActualByMission,
  projectedVsActualByTask,
  typicalDailySpend,
  type LedgerRow,
} from './projections.js';

const at = (iso: string) => DateTime.fromISO(iso, { setZone: true });
const row = (iso: string, usd: string, extra: Partial<LedgerRow> = {}): LedgerRow => ({
  usd: dec(usd),
  occurredAt: at(iso),
  kind: 'actual',
  task: 't',
  ...extra,
});

describe('projections', () => {
  it('typical daily spend: median of active days resists one runaway day; mean counts idle days', () => {
    const rows = [
      row('2026-11-16T15:00:00Z', '10'),
      row('2026-11-17T15:00:00Z', '12'),
      row('2026-11-18T15:00:00Z', '11'),
      row('2026-11-19T15:00:00Z', '500'),
      row('2026-11-20T15:00:00Z', '9'),
      row('2026-11-20T16:00:00Z', '1', { kind: 'projected' }),
    ];
    const t = typicalDailySpend(rows, at('2026-11-23T12:00:00Z'), 'America/Chicago', 7);
    expect(t.medianActiveDayUsd.toString()).toBe('11');
    expect(t.activeDays).toBe(5);
    expect(t.meanDayUsd.toFixed(2)).toBe('77.43');
  });

  it('burn rate is spend over the trailing window, per hour', () => {
    const rows = [
      row('2026-11-23T10:30:00Z', '6'),
      row('2026-11-23T11:30:00Z', '6'),
      row('2026-11-23T01:00:00Z', '99'),
    ];
    expect(burnRateUsdPerHour(rows, at('2026-11-23T12:00:00Z'), 4 * 3_600_000).toString()).toBe('3');
  });

  it('projects usage at reset and the exhaustion instant', () => {
    const now = at('2026-11-23T12:00:00Z');
    const p = projectWindow({
      usedPercent: dec(60),
      now,
      resetAt: now.plus({ hours: 10 }),
      usdPerHour: dec(50),
      percentPerUsd: dec('0.1'),
    });
    expect(p.percentAtReset.toString()).toBe('110');
    expect(p.exhaustsAt?.toISO()).toBe(now.plus({ hours: 8 }).toISO());
    const slow = projectWindow({
      usedPercent: dec(60),
      now,
      resetAt: now.plus({ hours: 10 }),
      usdPerHour: dec(1),
      percentPerUsd: dec('0.1'),
    });
    expect(slow.exhaustsAt).toBeUndefined();
  });

  it('compares projected and actual per mission and per task', () => {
    const rows = [
      row('2026-11-23T10:00:00Z', '4', { kind: 'projected', mission: 'm1', task: 'a' }),
      row('2026-11-23T11:00:00Z', '5', { mission: 'm1', task: 'a' }),
      row('2026-11-23T11:00:00Z', '2', { task: 'b' }),
    ];
    const byMission = projectedVsActualByMission(rows);
    expect(byMission).toHaveLength(1);
    expect(byMission[0]?.varianceRatio?.toString()).toBe('0.25');
    const byTask = projectedVsActualByTask(rows);
    expect(byTask.map((r) => r.key)).toEqual(['a', 'b']);
    expect(byTask[1]?.varianceRatio).toBeUndefined();
  });

  it('property: a projection never reaches 100 % later than the reset when it reports an exhaustion', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 200 }),
        (used, hours, rate) => {
          const now = at('2026-11-23T12:00:00Z');
          const resetAt = now.plus({ hours });
          const p = projectWindow({
            usedPercent: dec(used),
            now,
            resetAt,
            usdPerHour: dec(rate),
            percentPerUsd: dec('0.1'),
          });
          if (p.exhaustsAt) expect(p.exhaustsAt.toMillis()).toBeLessThanOrEqual(resetAt.toMillis() + 1);
          expect(p.exhaustsAt !== undefined).toBe(p.percentAtReset.gte(100));
        },
      ),
    );
  });
});
