import type { DateTime } from 'luxon';
import { ceilingPeriodBounds, type CeilingPeriod } from '@mosaic/budget-core';

/** Every calendar period the register keeps running totals for, so any ceiling can be read without a scan. */
export const TOTAL_PERIODS: readonly CeilingPeriod[] = ['P1D', 'P1W', 'P1M'];

interface Bounds {
  start: DateTime;
  end: DateTime;
  startMs: number;
  endMs: number;
}

// The gate asks for the same few periods (one per ceiling and zone) on every request, and an ingest
// batch asks for the periods of a handful of days; computing each with luxon's zone rules cost more
// than the decision itself at 100 accounts. A period is a fixed interval once known, so the last few
// per (period, zone) are kept and looked up by containment, which is exactly what the core computes.
const RECENT_PER_KEY = 8;
const MAX_KEYS = 4096;
const recent = new Map<string, Bounds[]>();

/** The calendar period containing `at` in `timezone`, as the core defines it (memoised). */
export function periodAt(
  period: CeilingPeriod,
  timezone: string,
  at: DateTime,
): { start: DateTime; end: DateTime } {
  const key = `${period}|${timezone}`;
  const ms = at.toMillis();
  const held = recent.get(key);
  if (held) {
    for (const b of held) if (ms >= b.startMs && ms < b.endMs) return b;
  }
  const { start, end } = ceilingPeriodBounds(period, timezone, at);
  const bounds: Bounds = { start, end, startMs: start.toMillis(), endMs: end.toMillis() };
  if (held) {
    held.unshift(bounds);
    if (held.length > RECENT_PER_KEY) held.pop();
  } else {
    // Zones come from account configuration, so the keys are few; the cap only guards against abuse.
    if (recent.size >= MAX_KEYS) recent.clear();
    recent.set(key, [bounds]);
  }
  return bounds;
}
