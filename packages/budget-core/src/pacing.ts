import { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import type { Confidence } from './confidence.js';
import type { Policy } from './policy.js';
import type { WindowState } from './snapshot.js';
import type { WindowSpec } from './window.js';
import type { ActiveAuthorizations } from './authorizations-active.js';
import { dec, ZERO } from './money.js';
import { DAY_MS, HOUR_MS } from './time.js';
import { LIMIT_PERCENT, earliestFitMs, windowHeadroom, type WindowHeadroom } from './headroom.js';

/** Whether usage is ahead of the ideal line, behind it, or within {@link ON_PACE_TOLERANCE_PERCENT} of it. */
export type PaceStatus = 'ahead' | 'behind' | 'on-pace';

/**
 * Within half a percentage point of the ideal line an account is "on pace": signals arrive as
 * whole or one-decimal percentages, so a smaller lead is noise, not a trend.
 */
export const ON_PACE_TOLERANCE_PERCENT: Decimal = dec('0.5');

/** One window's pace at one instant: what the pace table shows and what the gate reasons with. */
export interface WindowPace {
  window: string;
  /** U: signalled used % in this period + unsignaled spend converted through percentPerUsd. */
  usedPercent: Decimal;
  /** % held by live reservations. */
  reservedPercent: Decimal;
  /** The ideal cumulative line at now (0 at the period's start, 100 at its reset). */
  idealPercent: Decimal;
  /** U + reserved − ideal: positive is ahead of pace, negative behind. */
  leadPercent: Decimal;
  status: PaceStatus;
  /** r = (L − U)/(R − now), per hour of elapsed time (0 once U ≥ L). */
  targetPerHourPercent: Decimal;
  /** The same rate per 24 h of elapsed time. */
  targetPerDayPercent: Decimal;
  /** The largest task (in % of the window) that fits now. */
  headroomPercent: Decimal;
  start: DateTime;
  resetAt: DateTime;
  confidence: Confidence;
  /** B in percentage points. */
  burstPercent: Decimal;
  /** % of the window one API-equivalent USD consumes (the conversion used for estimates). */
  percentPerUsd: Decimal;
  /** The numbers in epoch ms, for {@link earliestFit}. */
  headroom: WindowHeadroom;
}

/**
 * The even-spread target rate r = (L − U)/(R − t), expressed per `unitMs` of elapsed time
 * (HOUR_MS for %/hour, DAY_MS for %/day). Zero when nothing is left or the reset has passed.
 */
export function targetRate(
  limit: Decimal,
  used: Decimal,
  resetMs: number,
  nowMs: number,
  unitMs: number,
): Decimal {
  const left = limit.minus(used);
  if (resetMs <= nowMs || left.lte(0)) return ZERO;
  return left.times(unitMs).div(resetMs - nowMs);
}

/** Everything {@link paceWindow} needs. */
export interface PaceWindowArgs {
  spec: WindowSpec;
  state: WindowState | undefined;
  timezone: string;
  now: DateTime;
  policy: Pick<Policy, 'pacing'>;
  authorizations?: ActiveAuthorizations;
  bypass?: boolean;
}

/**
 * The pace of one window at `now`: target rates, the ideal line, lead and headroom.
 *
 * @example
 * // 7-day window, 42% used at Wed 09:00, resets Fri 17:00 (America/Chicago):
 * const pace = paceWindow({
 *   spec: windowSpecSchema.parse({ name: 'weekly', length: 'P7D' }),
 *   state: { name: 'weekly', usedPercent: dec(42), reservedPercent: dec(0), confidence: 'provider',
 *            observedAt: wed9, resetAt: fri17 },
 *   timezone: 'America/Chicago', now: wed9, policy: defaultPolicy(),
 * });
 * pace.targetPerDayPercent.toFixed(4); // '24.8571' = 58% over 56 h, × 24
 */
export function paceWindow(args: PaceWindowArgs): WindowPace {
  const nowMs = args.now.toMillis();
  const h = windowHeadroom({
    spec: args.spec,
    state: args.state,
    timezone: args.timezone,
    nowMs,
    burst: args.policy.pacing.burst,
    defaultCapacityUsd: args.policy.pacing.defaultCapacityUsd,
    ...(args.authorizations ? { authorizations: args.authorizations } : {}),
    ...(args.bypass ? { bypass: true } : {}),
  });
  const lead = h.usedPercent.plus(h.reservedPercent).minus(h.idealPercent);
  const status: PaceStatus = lead.gt(ON_PACE_TOLERANCE_PERCENT)
    ? 'ahead'
    : lead.lt(ON_PACE_TOLERANCE_PERCENT.neg())
      ? 'behind'
      : 'on-pace';
  return {
    window: h.window,
    usedPercent: h.usedPercent,
    reservedPercent: h.reservedPercent,
    idealPercent: h.idealPercent,
    leadPercent: lead,
    status,
    targetPerHourPercent: targetRate(LIMIT_PERCENT, h.usedPercent, h.resetMs, nowMs, HOUR_MS),
    targetPerDayPercent: targetRate(LIMIT_PERCENT, h.usedPercent, h.resetMs, nowMs, DAY_MS),
    headroomPercent: h.headroomPercent,
    start: DateTime.fromMillis(h.startMs, { zone: args.timezone }),
    resetAt: DateTime.fromMillis(h.resetMs, { zone: args.timezone }),
    confidence: h.confidence,
    burstPercent: h.burstPercent,
    percentPerUsd: h.percentPerUsd,
    headroom: h,
  };
}

/**
 * The earliest instant ≥ now at which a task of `percent` of the window fits, assuming no further
 * spend (see {@link earliestFitMs}); `undefined` when the task exceeds a whole window.
 */
export function earliestFit(pace: WindowPace, percent: Decimal, now: DateTime): DateTime | undefined {
  const ms = earliestFitMs(pace.headroom, percent, now.toMillis());
  return ms === undefined ? undefined : DateTime.fromMillis(ms, { zone: pace.resetAt.zone });
}
