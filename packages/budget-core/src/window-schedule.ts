import { DateTime, type Duration } from 'luxon';
import type { Decimal } from 'decimal.js';
import type { Confidence } from './confidence.js';
import type { WindowSpec } from './window.js';

/** What the register holds about a window's current period (all optional: a window may have no state). */
export interface HeldWindow {
  resetAt?: DateTime;
  confidence: Confidence;
  /** Rolling windows: when the current window began (its first use). */
  startedAt?: DateTime;
  /** When the newest usage signal was observed, and what it said. */
  observedAt?: DateTime;
  usedPercent?: Decimal;
}

/** The window period in force at `now`. */
export interface EffectiveWindow {
  start: DateTime;
  resetAt: DateTime;
  confidence: Confidence;
  /**
   * False when the held signal was observed before `start`: its used % belongs to an earlier
   * period (the window rolled over since), so the current period's signalled usage is 0.
   */
  signalInWindow: boolean;
  /** Why this period was chosen, for the trace: `held`, `rolled`, `started`, `fresh`, `latest-plausible`. */
  basis: 'held' | 'rolled' | 'started' | 'fresh' | 'latest-plausible';
}

// A reset more than this many periods behind `now` is corrupt input, not a schedule to replay.
const MAX_ROLL_PERIODS = 100_000;

/** `anchor + length × k`, computed on the calendar of the anchor's zone (keeps local time across DST). */
export function addPeriods(anchor: DateTime, length: Duration, k: number): DateTime {
  if (k === 0) return anchor;
  return anchor.plus(length.mapUnits((v) => v * k));
}

/**
 * The first `anchor + length × k` (k ≥ 1) strictly after `now`. Always computed from the anchor, never
 * by repeated addition, so a monthly reset on the 31st is clamped in short months without drifting.
 */
function rollForward(anchor: DateTime, length: Duration, now: DateTime): { at: DateTime; k: number } {
  const lenMs = length.toMillis();
  const nowMs = now.toMillis();
  // Guess k from elapsed time (calendar lengths differ by at most a few hours from their nominal
  // millisecond length), then correct by stepping.
  let k = Math.max(1, Math.floor((nowMs - anchor.toMillis()) / lenMs));
  if (k > MAX_ROLL_PERIODS) k = MAX_ROLL_PERIODS;
  let at = addPeriods(anchor, length, k);
  while (k > 1 && addPeriods(anchor, length, k - 1).toMillis() > nowMs) {
    k -= 1;
    at = addPeriods(anchor, length, k);
  }
  while (at.toMillis() <= nowMs) {
    k += 1;
    at = addPeriods(anchor, length, k);
  }
  return { at, k };
}

/**
 * The current period of a window at `now`.
 *
 * - **Fixed** window with a known reset (`user`, `provider`, `estimated`): if the reset is still
 *   ahead it is the current reset and the period starts one `length` before it on the account's
 *   calendar (but never after `now`). If it has passed, the schedule recurs: the next reset is
 *   `resetAt + length × k` on the account's calendar, the first one after `now`. A projected
 *   `provider` reset becomes `estimated` (the provider did not say it); `user` and `estimated` keep
 *   their tag.
 * - **Rolling** window: a known future reset is used as it is; otherwise `startedAt + length`
 *   (elapsed time) while that is ahead; otherwise no window is running and a fresh one is assumed to
 *   start now.
 * - An `unknown` or absent reset is replaced by the **latest plausible** one: a window that
 *   showed usage at `observedAt` began no later than then, so it resets no later than
 *   `observedAt + length`; with no usage seen (or that instant passed), a window could begin now,
 *   so `now + length`. A later reset spreads what is left over more time, so a wrong guess slows
 *   pacing rather than exhausting the window early.
 */
export function currentWindow(
  spec: Pick<WindowSpec, 'length' | 'rolling'>,
  timezone: string,
  held: HeldWindow | undefined,
  now: DateTime,
): EffectiveWindow {
  const nowMs = now.toMillis();
  const lenMs = spec.length.toMillis();
  const inWindow = (start: DateTime) =>
    held?.observedAt !== undefined && held.observedAt.toMillis() >= start.toMillis();

  if (held?.resetAt && held.confidence !== 'unknown') {
    const reset = held.resetAt.setZone(timezone);
    if (reset.toMillis() > nowMs) {
      const start = spec.rolling ? reset.minus(lenMs) : reset.minus(spec.length);
      const s = start.toMillis() > nowMs ? now : start;
      return {
        start: s,
        resetAt: reset,
        confidence: held.confidence,
        signalInWindow: inWindow(s),
        basis: 'held',
      };
    }
    if (!spec.rolling) {
      const { at } = rollForward(reset, spec.length, now);
      const start = at.minus(spec.length);
      const confidence: Confidence = held.confidence === 'provider' ? 'estimated' : held.confidence;
      return { start, resetAt: at, confidence, signalInWindow: inWindow(start), basis: 'rolled' };
    }
  }

  if (spec.rolling && held?.startedAt && held.startedAt.toMillis() + lenMs > nowMs) {
    const start = held.startedAt;
    return {
      start,
      resetAt: DateTime.fromMillis(start.toMillis() + lenMs, { zone: timezone }),
      confidence: held.confidence === 'unknown' ? 'estimated' : held.confidence,
      signalInWindow: inWindow(start),
      basis: 'started',
    };
  }

  const observedAt = held?.observedAt;
  const sawUsage = held?.usedPercent !== undefined && held.usedPercent.gt(0);
  const observedMs = observedAt?.toMillis() ?? Number.NaN;
  // A signal observed inside a rolling window known to have ended belongs to that window.
  const inEndedWindow =
    spec.rolling && held?.startedAt !== undefined && observedMs < held.startedAt.toMillis() + lenMs;
  if (observedAt && sawUsage && !inEndedWindow && observedMs <= nowMs && observedMs + lenMs > nowMs) {
    // Usage was seen at observedAt, so the window began no later than that.
    const start = observedAt.setZone(timezone);
    const resetAt = spec.rolling ? start.plus(lenMs) : start.plus(spec.length);
    return { start, resetAt, confidence: 'unknown', signalInWindow: true, basis: 'latest-plausible' };
  }
  const start = now.setZone(timezone);
  const resetAt = spec.rolling ? start.plus(lenMs) : start.plus(spec.length);
  return {
    start,
    resetAt,
    confidence: spec.rolling ? 'estimated' : 'unknown',
    signalInWindow: false,
    basis: spec.rolling ? 'fresh' : 'latest-plausible',
  };
}
