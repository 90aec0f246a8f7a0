import type { Decimal } from 'decimal.js';
import type { Burst } from './policy.js';

/**
 * The burst allowance B in percentage points of a window: how far ahead of the ideal line an
 * account may run. `{percent}` is taken as given; `{pace: D}` is D of elapsed time at the window's
 * even rate, `limit × D / period`, where `period` is the current period's elapsed length in ms.
 */
export function burstPercent(burst: Burst, limit: Decimal, periodMs: number): Decimal {
  if ('percent' in burst) return burst.percent;
  return limit.times(burst.pace.toMillis()).div(periodMs);
}
