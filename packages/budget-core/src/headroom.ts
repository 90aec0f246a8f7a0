import type { Decimal } from 'decimal.js';
import type { Confidence } from './confidence.js';
import type { Burst } from './policy.js';
import type { WindowState } from './snapshot.js';
import type { WindowSpec } from './window.js';
import type { ActiveAuthorizations } from './authorizations-active.js';
import { dec, ZERO } from './money.js';
import { burstPercent } from './burst.js';
import { memoized, memoizedByNumber } from './memo.js';
import { currentWindowMs, type EffectiveWindowMs, type WindowBasis } from './window-schedule.js';

/** A window's limit: usage is measured in percent of it, so L is always 100. */
export const LIMIT_PERCENT: Decimal = dec(100);

/** Everything the pace of one window depends on. */
export interface WindowHeadroomInput {
  spec: WindowSpec;
  /** The register's state of the window; absent means no signal yet (usage 0, reset unknown). */
  state: WindowState | undefined;
  /** The account's IANA zone: fixed windows recur on its calendar. */
  timezone: string;
  nowMs: number;
  burst: Burst;
  /** Capacity assumed when neither the state nor the spec calibrates % per USD. */
  defaultCapacityUsd: Decimal;
  /** Authorizations in force for the task's scope (rapid, overspend). */
  authorizations?: ActiveAuthorizations;
  /** The task may skip the pace check (urgency at a bypass level under an urgency-bypass authorization). */
  bypass?: boolean;
}

/** One window's numbers at one instant: the pace line and how much fits under it. */
export interface WindowHeadroom {
  window: string;
  startMs: number;
  resetMs: number;
  confidence: Confidence;
  basis: WindowBasis;
  /** % of the window one API-equivalent USD consumes. */
  percentPerUsd: Decimal;
  /** U: the signal's used % (0 if it predates this period) + unsignaled USD × percentPerUsd. */
  usedPercent: Decimal;
  /** % held by live reservations. */
  reservedPercent: Decimal;
  /** The ideal cumulative line at now: L·(now − start)/(reset − start), faster under `rapid`. */
  idealPercent: Decimal;
  /** Where the ideal line starts at `startMs` (0 unless the start is a latest-plausible guess with usage). */
  lineBasePercent: Decimal;
  /** B, the burst allowance, in percentage points. */
  burstPercent: Decimal;
  /** Overspend authorizations in force, converted to percentage points. */
  allowancePercent: Decimal;
  /** How high U + reserved may go now: min(L, ideal + B + allowance), or L under a bypass. */
  capPercent: Decimal;
  /** max(0, cap − U − reserved): the largest task (in %) that fits now. */
  headroomPercent: Decimal;
  /** The rapid authorization applied, if any. */
  rapid?: { multiplier: Decimal; fromMs: number; untilMs: number };
  bypass: boolean;
}

/** % of a window per USD: calibrated, else 100 / the spec's capacity, else 100 / the default capacity. */
export function windowPercentPerUsd(
  spec: WindowSpec,
  state: WindowState | undefined,
  defaultCapacityUsd: Decimal,
): Decimal {
  if (state?.percentPerUsd) return state.percentPerUsd;
  const capacity = spec.capacityUsd ?? defaultCapacityUsd;
  return percentPerUsdOf(capacity);
}

// The same few capacities recur on every gate call; a division costs more than the lookup.
const percentPerUsdOf = memoized((capacity: Decimal): Decimal => LIMIT_PERCENT.div(capacity));

/** B for a period, memoised per burst setting and period length (both recur across calls). */
export const windowBurstPercent: (burst: Burst, periodMs: number) => Decimal = memoizedByNumber(
  64,
  (burst: Burst, periodMs: number) => burstPercent(burst, LIMIT_PERCENT, periodMs),
);

/**
 * U: the signal's used % when it belongs to the current period (else 0), plus the unsignaled spend
 * converted at `percentPerUsd`.
 */
export function windowUsedPercent(
  state: WindowState | undefined,
  signalInWindow: boolean,
  percentPerUsd: Decimal,
): Decimal {
  const used = state && signalInWindow ? state.usedPercent : ZERO;
  if (state?.unsignaledUsd && !state.unsignaledUsd.isZero())
    return used.plus(state.unsignaledUsd.times(percentPerUsd));
  return used;
}

/** The overspend authorizations in force, in percentage points of a window. */
export function windowAllowancePercent(
  authorizations: ActiveAuthorizations | undefined,
  percentPerUsd: Decimal,
): Decimal {
  return authorizations && !authorizations.overspendUsd.isZero()
    ? authorizations.overspendUsd.times(percentPerUsd)
    : ZERO;
}

/**
 * The ideal cumulative line at `tMs`: `base` (normally 0) at the period's start, L at its reset,
 * rising evenly in elapsed time. Under a rapid authorization the line rises `multiplier` times
 * faster from max(from, start) on; it never exceeds L. A non-zero base is a re-split: the line of
 * a window whose start is only guessed starts from the usage observed at the guess.
 */
export function idealPercentAt(
  limit: Decimal,
  startMs: number,
  resetMs: number,
  tMs: number,
  rapid?: { multiplier: Decimal; fromMs: number },
  base: Decimal = ZERO,
): Decimal {
  if (!base.isZero()) {
    if (base.gte(limit)) return limit;
    const share = idealPercentAt(limit, startMs, resetMs, tMs, rapid);
    return base.plus(share.times(limit.minus(base)).div(limit));
  }
  const periodMs = resetMs - startMs;
  if (tMs <= startMs) return ZERO;
  if (tMs >= resetMs && !rapid) return limit;
  let v: Decimal;
  if (rapid && tMs > Math.max(rapid.fromMs, startMs)) {
    const a = Math.max(rapid.fromMs, startMs);
    v = limit.times(rapid.multiplier.times(tMs - a).plus(a - startMs)).div(periodMs);
  } else if (limit === LIMIT_PERCENT) {
    // The hot path: 100 × elapsed is an exact integer in a double (elapsed < 2^46 ms), so one
    // decimal division suffices.
    v = dec((tMs - startMs) * 100).div(periodMs);
  } else {
    v = limit.times(tMs - startMs).div(periodMs);
  }
  return v.gt(limit) ? limit : v;
}

/**
 * Computes one window's pace numbers once; the gate then tests every model's estimate against
 * `headroomPercent` without recomputing. Decimal arithmetic for every percent, epoch ms for time.
 * `window` is the period `currentWindowMs` already gave for the same input, if the caller has it.
 */
export function windowHeadroom(input: WindowHeadroomInput, window?: EffectiveWindowMs): WindowHeadroom {
  const { spec, state, nowMs } = input;
  const w = window ?? currentWindowMs(spec, input.timezone, state, nowMs);
  const ppu = windowPercentPerUsd(spec, state, input.defaultCapacityUsd);
  const used = windowUsedPercent(state, w.signalInWindow, ppu);
  const reserved = state?.reservedPercent ?? ZERO;
  const auth = input.authorizations;
  const rapid = auth?.rapid;
  // A guessed (latest plausible) start that already showed usage: the line is re-split from that
  // usage, not from 0, so an unknown reset slows pacing without shutting the account for days.
  const base =
    w.basis === 'latest-plausible' && w.signalInWindow && state
      ? state.usedPercent.gt(LIMIT_PERCENT)
        ? LIMIT_PERCENT
        : state.usedPercent
      : ZERO;
  const ideal = idealPercentAt(LIMIT_PERCENT, w.startMs, w.resetMs, nowMs, rapid, base);
  const burst = windowBurstPercent(input.burst, w.resetMs - w.startMs);
  const allowance = windowAllowancePercent(auth, ppu);
  const bypass = input.bypass === true;
  let cap = bypass
    ? LIMIT_PERCENT
    : allowance.isZero()
      ? ideal.plus(burst)
      : ideal.plus(burst).plus(allowance);
  if (cap.gt(LIMIT_PERCENT)) cap = LIMIT_PERCENT;
  const room = reserved.isZero() ? cap.minus(used) : cap.minus(used).minus(reserved);
  const h: WindowHeadroom = {
    window: spec.name,
    startMs: w.startMs,
    resetMs: w.resetMs,
    confidence: w.confidence,
    basis: w.basis,
    percentPerUsd: ppu,
    usedPercent: used,
    reservedPercent: reserved,
    idealPercent: ideal,
    lineBasePercent: base,
    burstPercent: burst,
    allowancePercent: allowance,
    capPercent: cap,
    headroomPercent: room.isNegative() ? ZERO : room,
    bypass,
  };
  if (rapid) h.rapid = { multiplier: rapid.multiplier, fromMs: rapid.fromMs, untilMs: rapid.untilMs };
  return h;
}

/** Whether a task of `percent` of the window fits now: U + reserved + e ≤ cap. */
export function fitsWindow(h: WindowHeadroom, percent: Decimal): boolean {
  return h.usedPercent.plus(h.reservedPercent).plus(percent).lte(h.capPercent);
}

/**
 * The earliest instant (epoch ms, ≥ now) at which a task of `percent` fits, assuming no further
 * spend: solves ideal(t) + B + allowance ≥ U + reserved + e on the current line; if that is not
 * before the reset, the next period from a fresh start: reset + (e − B)·period/L, or the reset
 * itself when e ≤ B. `undefined` when e > L: the task exceeds a whole window and never fits.
 */
export function earliestFitMs(h: WindowHeadroom, percent: Decimal, nowMs: number): number | undefined {
  if (percent.gt(LIMIT_PERCENT)) return undefined;
  if (fitsWindow(h, percent)) return nowMs;
  const periodMs = h.resetMs - h.startMs;
  const total = h.usedPercent.plus(h.reservedPercent).plus(percent);
  const rise = LIMIT_PERCENT.minus(h.lineBasePercent);
  if (!h.bypass && total.lte(LIMIT_PERCENT) && rise.gt(0)) {
    // The ideal line must reach y; invert ideal(t) = base + (L − base)·elapsed/period.
    const y = total.minus(h.burstPercent).minus(h.allowancePercent).minus(h.lineBasePercent);
    const elapsedNeeded = y.times(periodMs).div(rise);
    let t = h.startMs + Math.ceil(elapsedNeeded.toNumber());
    if (h.rapid) {
      const a = Math.max(h.rapid.fromMs, h.startMs);
      const tr =
        a +
        Math.ceil(
          elapsedNeeded
            .minus(a - h.startMs)
            .div(h.rapid.multiplier)
            .toNumber(),
        );
      // A rapid line helps only while the authorization lasts; after it, the plain line applies.
      if (tr <= h.rapid.untilMs) t = Math.min(t, tr);
    }
    if (t < nowMs) t = nowMs;
    if (t < h.resetMs) return t;
  }
  const waitPercent = percent.minus(h.burstPercent);
  if (waitPercent.lte(0)) return h.resetMs;
  return h.resetMs + Math.ceil(waitPercent.times(periodMs).div(LIMIT_PERCENT).toNumber());
}
