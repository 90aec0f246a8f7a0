import type { DateTime } from 'luxon';
import type { CeilingPeriod } from './account.js';

const UNIT = { P1D: 'day', P1W: 'week', P1M: 'month' } as const;

/**
 * The calendar period of a hard ceiling that contains `now`, in the account's time zone: a day
 * from local midnight, an ISO week from Monday 00:00, or a month from the 1st 00:00. `end` is the
 * start of the next period (exclusive). These are calendar periods, so a day across a DST change
 * lasts 23 or 25 hours.
 */
export function ceilingPeriodBounds(
  period: CeilingPeriod,
  timezone: string,
  now: DateTime,
): { start: DateTime; end: DateTime } {
  const unit = UNIT[period];
  // luxon's startOf('week') is the ISO week (Monday) unless locale weeks are asked for.
  const start = now.setZone(timezone).startOf(unit);
  const end = start.plus({ [`${unit}s`]: 1 });
  return { start, end };
}
