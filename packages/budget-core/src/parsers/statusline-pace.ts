import { Decimal } from 'decimal.js';
import type { DateTime } from 'luxon';
import { WINDOW_NAMES, type SignalDraft } from './signal-draft.js';

/**
 * The lengths of the two windows Claude Code's status line reports, in elapsed milliseconds: its
 * `five_hour` and `seven_day` rate limits are rolling windows of exactly that much time.
 */
export const STATUSLINE_WINDOW_LENGTH_MS: Readonly<Record<string, number>> = Object.freeze({
  [WINDOW_NAMES.fiveHour]: 5 * 3_600_000,
  [WINDOW_NAMES.sevenDay]: 7 * 86_400_000,
});

/**
 * Half a percentage point, as the core's `ON_PACE_TOLERANCE_PERCENT` in pacing.ts (a test keeps the
 * two equal). It is repeated here because pacing.ts reaches zod through money.ts, and this module is
 * part of the light entry point the status line loads on every prompt.
 */
export const STATUSLINE_ON_PACE_TOLERANCE_PERCENT: Decimal = new Decimal('0.5');

const HUNDRED = new Decimal(100);

/** Where one status-line window stands against its even pace line. */
export interface StatusLinePace {
  window: string;
  usedPercent: Decimal;
  /** The ideal cumulative line at now: 0 when the window starts, 100 at its reset. */
  idealPercent: Decimal;
  /** used − ideal: positive is ahead of pace, negative behind. */
  leadPercent: Decimal;
  status: 'ahead' | 'behind' | 'on-pace';
  /** Milliseconds of elapsed time until the reset (always more than 0). */
  resetInMs: number;
}

/**
 * The pace of a status-line signal, from the signal alone: the window started one window length
 * before its reset, and the ideal line rises evenly from 0 to 100 over that elapsed time. Undefined
 * when the signal has no reset, its window's length is unknown, or its reset has passed (the reading
 * belongs to a window that has ended). A reset more than a window length ahead (a clock or provider
 * glitch) puts the ideal line at 0.
 * @example
 * // 5-hour window resetting in 2 h, 40% used: ideal 60%, lead −20 (behind).
 * statusLinePace(signal, now)?.leadPercent.toString(); // '-20'
 */
export function statusLinePace(signal: SignalDraft, now: DateTime): StatusLinePace | undefined {
  const lengthMs = STATUSLINE_WINDOW_LENGTH_MS[signal.window];
  if (lengthMs === undefined || signal.resetAt === undefined) return undefined;
  const resetMs = signal.resetAt.toMillis();
  const nowMs = now.toMillis();
  if (resetMs <= nowMs) return undefined;
  const elapsedMs = Math.min(lengthMs, Math.max(0, nowMs - (resetMs - lengthMs)));
  const ideal = HUNDRED.times(elapsedMs).div(lengthMs);
  const lead = signal.usedPercent.minus(ideal);
  const tolerance = STATUSLINE_ON_PACE_TOLERANCE_PERCENT;
  return {
    window: signal.window,
    usedPercent: signal.usedPercent,
    idealPercent: ideal,
    leadPercent: lead,
    status: lead.gt(tolerance) ? 'ahead' : lead.lt(tolerance.neg()) ? 'behind' : 'on-pace',
    resetInMs: resetMs - nowMs,
  };
}
