import type { Decimal } from 'decimal.js';
import type { DateTime } from 'luxon';
import { dec, ZERO } from './money.js';
import type { SpendRecord } from './spend.js';
import { HOUR_MS } from './time.js';

/** The ledger fields projections read. */
export type LedgerRow = Pick<SpendRecord, 'usd' | 'occurredAt' | 'kind' | 'task'> & {
  mission?: string | undefined;
};

/** Days of history {@link typicalDailySpend} looks at by default: two weeks covers both weekly shapes. */
export const TYPICAL_DAYS = 14;

/** What a typical day costs, robustly. */
export interface TypicalDailySpend {
  /** Median spend over the days that had any: what a working day costs. */
  medianActiveDayUsd: Decimal;
  /** Mean spend over every calendar day in the span, idle ones included: what the average day costs. */
  meanDayUsd: Decimal;
  activeDays: number;
  days: number;
}

function median(values: Decimal[]): Decimal {
  if (values.length === 0) return ZERO;
  const s = [...values].sort((a, b) => a.comparedTo(b));
  const mid = Math.floor(s.length / 2);
  const hi = s[mid] ?? ZERO;
  return s.length % 2 === 1 ? hi : (s[mid - 1] ?? hi).plus(hi).div(2);
}

/**
 * Typical daily spend over the `days` complete calendar days (in `timezone`) before `now`, from
 * actual ledger rows. The median of active days is robust to one runaway day and to idle weekends;
 * the mean over all days is what a budget must cover on average.
 *
 * @example
 * typicalDailySpend(rows, DateTime.fromISO('2026-11-25T12:00:00Z'), 'America/Chicago').medianActiveDayUsd;
 */
export function typicalDailySpend(
  rows: readonly LedgerRow[],
  now: DateTime,
  timezone: string,
  days: number = TYPICAL_DAYS,
): TypicalDailySpend {
  const today = now.setZone(timezone).startOf('day');
  const from = today.minus({ days });
  const fromMs = from.toMillis();
  const toMs = today.toMillis();
  const totals = new Map<string, Decimal>();
  for (const r of rows) {
    if (r.kind !== 'actual') continue;
    const ms = r.occurredAt.toMillis();
    if (ms < fromMs || ms >= toMs) continue;
    const key = r.occurredAt.setZone(timezone).toISODate() ?? '';
    totals.set(key, (totals.get(key) ?? ZERO).plus(r.usd));
  }
  const active = [...totals.values()].filter((v) => v.gt(0));
  const sum = active.reduce((a, b) => a.plus(b), ZERO);
  return {
    medianActiveDayUsd: median(active),
    meanDayUsd: days > 0 ? sum.div(days) : ZERO,
    activeDays: active.length,
    days,
  };
}

/** Spend per hour over the trailing `windowMs` before `now` (actual rows only). */
export function burnRateUsdPerHour(rows: readonly LedgerRow[], now: DateTime, windowMs: number): Decimal {
  const nowMs = now.toMillis();
  let sum = ZERO;
  for (const r of rows) {
    if (r.kind !== 'actual') continue;
    const ms = r.occurredAt.toMillis();
    if (ms > nowMs - windowMs && ms <= nowMs) sum = sum.plus(r.usd);
  }
  return sum.times(HOUR_MS).div(windowMs);
}

/** Where a window is heading at the current burn rate. */
export interface WindowProjection {
  /** Used % projected at the reset. */
  percentAtReset: Decimal;
  /** When the window reaches 100 % at this rate; absent when it does not before the reset. */
  exhaustsAt?: DateTime;
  /** The burn rate as % of the window per hour. */
  percentPerHour: Decimal;
}

/**
 * Projects a window to its reset at a burn rate: `used + rate × (reset − now)`, and the instant
 * it would reach 100 % if that comes first.
 *
 * @example
 * projectWindow({ usedPercent: dec(60), now, resetAt, usdPerHour: dec(4), percentPerUsd: dec('0.111') });
 */
export function projectWindow(args: {
  usedPercent: Decimal;
  now: DateTime;
  resetAt: DateTime;
  usdPerHour: Decimal;
  percentPerUsd: Decimal;
}): WindowProjection {
  const hoursLeft = dec(Math.max(0, args.resetAt.toMillis() - args.now.toMillis())).div(HOUR_MS);
  const rate = args.usdPerHour.times(args.percentPerUsd);
  const atReset = args.usedPercent.plus(rate.times(hoursLeft));
  const out: WindowProjection = { percentAtReset: atReset, percentPerHour: rate };
  if (args.usedPercent.gte(100)) {
    out.exhaustsAt = args.now;
  } else if (rate.gt(0) && atReset.gte(100)) {
    const hours = dec(100).minus(args.usedPercent).div(rate);
    out.exhaustsAt = args.now.plus({ milliseconds: Math.ceil(hours.times(HOUR_MS).toNumber()) });
  }
  return out;
}

/** Projected against actual spend of one mission or task. */
export interface ProjectedVsActual {
  key: string;
  projectedUsd: Decimal;
  actualUsd: Decimal;
  /** actual − projected. */
  varianceUsd: Decimal;
  /** actual / projected − 1; absent when nothing was projected. */
  varianceRatio?: Decimal;
}

function compare(
  rows: readonly LedgerRow[],
  keyOf: (r: LedgerRow) => string | undefined,
): ProjectedVsActual[] {
  const acc = new Map<string, { p: Decimal; a: Decimal }>();
  for (const r of rows) {
    const key = keyOf(r);
    if (key === undefined) continue;
    const cur = acc.get(key) ?? { p: ZERO, a: ZERO };
    if (r.kind === 'projected') cur.p = cur.p.plus(r.usd);
    else cur.a = cur.a.plus(r.usd);
    acc.set(key, cur);
  }
  return [...acc.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, { p, a }]) => {
      const out: ProjectedVsActual = { key, projectedUsd: p, actualUsd: a, varianceUsd: a.minus(p) };
      if (p.gt(0)) out.varianceRatio = a.div(p).minus(1);
      return out;
    });
}

/** Projected vs actual spend per mission (rows without a mission are left out), sorted by mission. */
export function projectedVsActualByMission(rows: readonly LedgerRow[]): ProjectedVsActual[] {
  return compare(rows, (r) => r.mission);
}

/** Projected vs actual spend per task, sorted by task. */
export function projectedVsActualByTask(rows: readonly LedgerRow[]): ProjectedVsActual[] {
  return compare(rows, (r) => r.task);
}
