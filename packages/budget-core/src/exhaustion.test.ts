import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { dec } from './money.js';
import { DAY_MS } from './time.js';
import { paceWindow } from './pacing.js';
import { defaultPolicy } from './policy.js';
import { windowSpecSchema } from './window.js';
import { projectedExhaustionMs } from './exhaustion.js';

const spec = windowSpecSchema.parse({ name: 'weekly', length: 'P7D' });
const start = DateTime.fromISO('2026-03-02T00:00:00Z', { zone: 'utc' });
const resetAt = start.plus({ days: 7 });

function paceAt(used: number, dayOffset: number) {
  const now = start.plus({ milliseconds: dayOffset * DAY_MS });
  const pace = paceWindow({
    spec,
    state: {
      name: 'weekly',
      usedPercent: dec(used),
      reservedPercent: dec(0),
      observedAt: now,
      resetAt,
      confidence: 'provider',
    },
    timezone: 'UTC',
    now,
    policy: defaultPolicy(),
  });
  return { pace, nowMs: now.toMillis() };
}

describe('projected exhaustion', () => {
  it('extrapolates the average rate since the period start: 40% after 2 days exhausts at day 5', () => {
    const { pace, nowMs } = paceAt(40, 2);
    expect(projectedExhaustionMs(pace, nowMs)).toBe(start.plus({ days: 5 }).toMillis());
  });

  it('is now once the limit is reached and undefined before any usage', () => {
    const full = paceAt(100, 3);
    expect(projectedExhaustionMs(full.pace, full.nowMs)).toBe(full.nowMs);
    const idle = paceAt(0, 3);
    expect(projectedExhaustionMs(idle.pace, idle.nowMs)).toBeUndefined();
  });

  it('property: usage at or below the ideal line never projects exhaustion before the reset', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 6.99, noNaN: true }),
        fc.double({ min: 0.01, max: 0.999, noNaN: true }),
        (day, share) => {
          const ideal = (day / 7) * 100;
          const { pace, nowMs } = paceAt(Math.floor(ideal * share * 1e6) / 1e6, day);
          const at = projectedExhaustionMs(pace, nowMs);
          if (at !== undefined) expect(at).toBeGreaterThanOrEqual(resetAt.toMillis() - 1);
        },
      ),
    );
  });
});
