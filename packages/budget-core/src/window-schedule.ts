import { DateTime, type Duration } from 'luxon';
import type { Decimal } from 'decimal.js';
import type { Confidence } from './confidence.js';
import type { WindowSpec } from './window.js';
import { memoized } from './memo.js';

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

/** Why a window period was chosen, for the trace. */
export type WindowBasis = 'held' | 'rolled' | 'started' | 'fresh' | 'latest-plausible';

/** The window period in force at an instant, in epoch milliseconds (what hot paths use). */
export interface EffectiveWindowMs {
  startMs: number;
  resetMs: number;
  confidence: Confidence;
  /**
   * False when the held signal was observed before the period's start: its used % belongs to an
   * earlier period (the window rolled over since), so the current period's signalled usage is 0.
   */
  signalInWindow: boolean;
  basis: WindowBasis;
}

/** The window period in force at `now`, as luxon instants in the account's zone. */
export interface EffectiveWindow extends Omit<EffectiveWindowMs, 'startMs' | 'resetMs'> {
  start: DateTime;
  resetAt: DateTime;
}

// A reset more than this many periods behind `now` is corrupt input, not a schedule to replay.
const MAX_ROLL_PERIODS = 100_000;
// Calendar shifts are memoised per window length: the same few (zone, anchor, k) triples recur on
// every gate call, and luxon's zone arithmetic costs microseconds. The cap bounds memory.
const MEMO_CAP = 512;
/** Per window length: zone → k → anchor ms → shifted ms, and how many entries that holds. */
interface ShiftMemo {
  size: number;
  zones: Map<string, Map<number, Map<number, number>>>;
}
const memo = new WeakMap<Duration, ShiftMemo>();

/** A duration's nominal length in ms (memoised: luxon recomputes it from its units on every call). */
const lengthMs = memoized((length: Duration): number => length.toMillis());

/** `anchor + length × k`, computed on the calendar of the anchor's zone (keeps local time across DST). */
export function addPeriods(anchor: DateTime, length: Duration, k: number): DateTime {
  if (k === 0) return anchor;
  return anchor.plus(length.mapUnits((v) => v * k));
}

/** `fromMs + length × k` on the calendar of `timezone`, in epoch ms (memoised). */
export function shiftMs(length: Duration, timezone: string, fromMs: number, k: number): number {
  let m = memo.get(length);
  if (!m) {
    m = { size: 0, zones: new Map() };
    memo.set(length, m);
  }
  // Nested maps keyed by the numbers themselves: building a string key per lookup cost more than
  // the lookup (the gate shifts every fixed window of every account it ranks).
  const byK = m.zones.get(timezone);
  const byAnchor = byK?.get(k);
  const hit = byAnchor?.get(fromMs);
  if (hit !== undefined) return hit;
  const v = addPeriods(DateTime.fromMillis(fromMs, { zone: timezone }), length, k).toMillis();
  if (m.size >= MEMO_CAP) {
    m.zones.clear();
    m.size = 0;
  }
  let ks = m.zones.get(timezone);
  if (!ks) {
    ks = new Map();
    m.zones.set(timezone, ks);
  }
  let anchors = ks.get(k);
  if (!anchors) {
    anchors = new Map();
    ks.set(k, anchors);
  }
  anchors.set(fromMs, v);
  m.size += 1;
  return v;
}

/**
 * The first `anchor + length × k` (k ≥ 1) strictly after `nowMs`. Always computed from the anchor,
 * never by repeated addition, so a monthly reset on the 31st is clamped in short months without
 * drifting.
 */
function rollForward(length: Duration, timezone: string, anchorMs: number, nowMs: number): number {
  const lenMs = length.toMillis();
  // Guess k from elapsed time (calendar lengths differ from their nominal millisecond length by
  // hours at most), then correct by stepping.
  let k = Math.min(MAX_ROLL_PERIODS, Math.max(1, Math.floor((nowMs - anchorMs) / lenMs)));
  while (k > 1 && shiftMs(length, timezone, anchorMs, k - 1) > nowMs) k -= 1;
  let at = shiftMs(length, timezone, anchorMs, k);
  while (at <= nowMs) {
    k += 1;
    at = shiftMs(length, timezone, anchorMs, k);
  }
  return at;
}

/**
 * `fromMs` moved by `k` lengths of a window: elapsed time for a rolling window, the account's
 * calendar for a fixed one.
 */
function shifted(
  spec: Pick<WindowSpec, 'length' | 'rolling'>,
  timezone: string,
  lenMs: number,
  fromMs: number,
  k: number,
): number {
  return spec.rolling ? fromMs + lenMs * k : shiftMs(spec.length, timezone, fromMs, k);
}

/** A period, whose signal counts when it was observed at or after the period's start. */
function period(
  startMs: number,
  resetMs: number,
  confidence: Confidence,
  basis: WindowBasis,
  observedMs: number,
): EffectiveWindowMs {
  return { startMs, resetMs, confidence, signalInWindow: observedMs >= startMs, basis };
}

/**
 * The current period of a window at `nowMs` (see {@link currentWindow} for the rules), in epoch
 * milliseconds. luxon is used only for calendar shifts, and those are memoised.
 */
export function currentWindowMs(
  spec: Pick<WindowSpec, 'length' | 'rolling'>,
  timezone: string,
  held: HeldWindow | undefined,
  nowMs: number,
): EffectiveWindowMs {
  const lenMs = lengthMs(spec.length);
  // NaN compares false, so a window with no observation never carries a signal.
  const observedMs = held?.observedAt ? held.observedAt.toMillis() : Number.NaN;

  if (held?.resetAt && held.confidence !== 'unknown') {
    const resetMs = held.resetAt.toMillis();
    if (resetMs > nowMs) {
      const periodStartMs = shifted(spec, timezone, lenMs, resetMs, -1);
      if (periodStartMs <= nowMs) return period(periodStartMs, resetMs, held.confidence, 'held', observedMs);
      // A reset more than one length ahead is kept (a later reset only slows pacing); its period
      // is taken to start now. That start moves with the clock, so the held signal cannot be
      // judged against it: every reading would drop out of the window a moment after it arrived
      // and the window would look unused. No reset is known between the reading and now, so a
      // reading from the last (nominal) length is kept, which errs towards slower pacing; an
      // older one must belong to an earlier period of a window this long.
      return {
        startMs: nowMs,
        resetMs,
        confidence: held.confidence,
        signalInWindow: observedMs > nowMs - lenMs,
        basis: 'held',
      };
    }
    if (!spec.rolling) {
      const at = rollForward(spec.length, timezone, resetMs, nowMs);
      const confidence: Confidence = held.confidence === 'provider' ? 'estimated' : held.confidence;
      return period(shifted(spec, timezone, lenMs, at, -1), at, confidence, 'rolled', observedMs);
    }
  }

  const startedMs = held?.startedAt ? held.startedAt.toMillis() : Number.NaN;
  if (spec.rolling && startedMs <= nowMs && startedMs + lenMs > nowMs) {
    const confidence: Confidence =
      held?.confidence === 'unknown' ? 'estimated' : (held?.confidence ?? 'estimated');
    return period(startedMs, startedMs + lenMs, confidence, 'started', observedMs);
  }

  const sawUsage = held?.usedPercent !== undefined && held.usedPercent.gt(0);
  // A signal observed inside a rolling window known to have ended belongs to that window.
  const inEndedWindow = spec.rolling && observedMs < startedMs + lenMs;
  if (sawUsage && !inEndedWindow && observedMs <= nowMs && observedMs + lenMs > nowMs) {
    // Usage was seen at observedAt, so the window began no later than that: the latest plausible
    // reset is observedAt + length.
    return period(
      observedMs,
      shifted(spec, timezone, lenMs, observedMs, 1),
      'unknown',
      'latest-plausible',
      observedMs,
    );
  }
  // Nothing running that we know of: a window could begin now, so the latest plausible reset is
  // now + length; the held signal (if any) is from an earlier period.
  return {
    startMs: nowMs,
    resetMs: shifted(spec, timezone, lenMs, nowMs, 1),
    confidence: spec.rolling ? 'estimated' : 'unknown',
    signalInWindow: false,
    basis: spec.rolling ? 'fresh' : 'latest-plausible',
  };
}

/**
 * The current period of a window at `now`.
 *
 * - **Fixed** window with a known reset (`user`, `provider`, `estimated`): if the reset is still
 *   ahead it is the current reset and the period starts one `length` before it on the account's
 *   calendar (but never after `now`; a reset more than one length ahead keeps a signal observed
 *   within the last length). If it has passed, the schedule recurs: the next reset is
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
 *   pacing rather than exhausting the window early. The unknown instant itself is not used.
 *
 * @example
 * currentWindow({ length: Duration.fromISO('P7D'), rolling: false }, 'America/Chicago',
 *   { resetAt: DateTime.fromISO('2026-10-30T17:00:00-05:00'), confidence: 'user' },
 *   DateTime.fromISO('2026-11-04T12:00:00Z'));
 * // → resetAt 2026-11-06T17:00:00-06:00 (17:00 local after the DST change)
 */
export function currentWindow(
  spec: Pick<WindowSpec, 'length' | 'rolling'>,
  timezone: string,
  held: HeldWindow | undefined,
  now: DateTime,
): EffectiveWindow {
  const w = currentWindowMs(spec, timezone, held, now.toMillis());
  return {
    start: DateTime.fromMillis(w.startMs, { zone: timezone }),
    resetAt: DateTime.fromMillis(w.resetMs, { zone: timezone }),
    confidence: w.confidence,
    signalInWindow: w.signalInWindow,
    basis: w.basis,
  };
}
