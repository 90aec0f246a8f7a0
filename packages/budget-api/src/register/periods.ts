import type { DateTime } from 'luxon';
import { ceilingPeriodBounds, type CeilingPeriod } from '@mosaic/budget-core';

/** Every calendar period the register keeps running totals for, so any ceiling can be read without a scan. */
export const TOTAL_PERIODS: readonly CeilingPeriod[] = ['P1D', 'P1W', 'P1M'];

/** The calendar period containing `at` in `timezone`, as the core defines it. */
export function periodAt(
  period: CeilingPeriod,
  timezone: string,
  at: DateTime,
): { start: DateTime; end: DateTime } {
  return ceilingPeriodBounds(period, timezone, at);
}
