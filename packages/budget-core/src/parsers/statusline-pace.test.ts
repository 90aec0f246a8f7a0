import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { DateTime } from 'luxon';
import { ON_PACE_TOLERANCE_PERCENT } from '../pacing.js';
import {
  STATUSLINE_ON_PACE_TOLERANCE_PERCENT,
  STATUSLINE_WINDOW_LENGTH_MS,
  statusLinePace,
} from './statusline-pace.js';
import type { SignalDraft } from './signal-draft.js';

const now = DateTime.fromISO('2026-11-24T12:00:00Z', { zone: 'utc' });

function signal(window: string, used: string, resetAt: DateTime | undefined): SignalDraft {
  return {
    window,
    usedPercent: new Decimal(used),
    ...(resetAt ? { resetAt } : {}),
    confidence: 'provider',
    observedAt: now,
    source: 'statusline',
  };
}

// Resets from just after now to two window lengths ahead cover every case the clamp handles.
const MAX_OFFSET_WINDOWS = 2;
// Providers report overage, up to the 1000% the parser accepts.
const MAX_USED_PERCENT = 1000;

describe('statusLinePace', () => {
  it('puts a 5-hour window resetting in 2 h at 60% ideal: 40% used is 20 points behind', () => {
    const p = statusLinePace(signal('session', '40', now.plus({ hours: 2 })), now);
    expect(p?.idealPercent.toString()).toBe('60');
    expect(p?.leadPercent.toString()).toBe('-20');
    expect(p?.status).toBe('behind');
    expect(p?.resetInMs).toBe(2 * 3_600_000);
  });

  it('puts a 7-day window resetting in 3.5 days at half: 50.4% used is on pace, 51% ahead', () => {
    const reset = now.plus({ hours: 84 });
    expect(statusLinePace(signal('weekly', '50.4', reset), now)?.status).toBe('on-pace');
    expect(statusLinePace(signal('weekly', '51', reset), now)?.status).toBe('ahead');
  });

  it('has no pace without a reset, after the reset, or for a window of unknown length', () => {
    expect(statusLinePace(signal('session', '10', undefined), now)).toBeUndefined();
    expect(statusLinePace(signal('session', '10', now), now)).toBeUndefined();
    expect(statusLinePace(signal('weekly', '10', now.minus({ minutes: 1 })), now)).toBeUndefined();
    expect(statusLinePace(signal('90m', '10', now.plus({ hours: 1 })), now)).toBeUndefined();
  });

  it('uses the same on-pace tolerance as the pace table', () => {
    expect(STATUSLINE_ON_PACE_TOLERANCE_PERCENT.eq(ON_PACE_TOLERANCE_PERCENT)).toBe(true);
  });

  it('keeps the ideal line between 0 and 100 and the lead equal to used minus ideal, for any reset ahead', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('session', 'weekly'),
        fc.double({ min: 1e-6, max: MAX_OFFSET_WINDOWS, noNaN: true }),
        fc.integer({ min: 0, max: MAX_USED_PERCENT * 10 }),
        (window, offset, usedTenths) => {
          const length = STATUSLINE_WINDOW_LENGTH_MS[window] ?? 0;
          const reset = now.plus({ milliseconds: Math.max(1, Math.round(offset * length)) });
          const used = new Decimal(usedTenths).div(10);
          const p = statusLinePace(signal(window, used.toString(), reset), now);
          expect(p).toBeDefined();
          if (!p) return;
          expect(p.idealPercent.gte(0) && p.idealPercent.lte(100)).toBe(true);
          expect(p.leadPercent.eq(used.minus(p.idealPercent))).toBe(true);
          expect(p.resetInMs).toBe(reset.toMillis() - now.toMillis());
        },
      ),
      { numRuns: 200 },
    );
  });
});
