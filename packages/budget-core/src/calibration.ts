import type { Decimal } from 'decimal.js';
import type { DateTime } from 'luxon';
import { dec } from './money.js';

/**
 * Smallest rise of the used % between two signals that forms an evidence pair. Providers report
 * whole percents, so a pair spanning one point carries up to ±100 % error; five points bound the
 * quantisation error of one pair to ±20 % and, because the end of one pair is the start of the
 * next, the errors telescope: over a whole window the error is one quantum of the total rise.
 */
export const CALIBRATION_MIN_SPAN_PERCENT = 5;

/**
 * Forgetting factor per evidence pair. 0.95 gives the last ~20 pairs (≈ one week of a weekly
 * window at 5-point pairs) most of the weight, so a plan change is learnt within days while
 * quantisation noise still averages out.
 */
export const CALIBRATION_FORGETTING = 0.95;

/** Span, in percent, that the cold-start prior counts as: as much evidence as one minimal pair. */
export const CALIBRATION_PRIOR_SPAN_PERCENT = 5;

/**
 * The prior's weight halves with every pair: it exists for the cold start, and a capacity guessed
 * in the policy can be off by several times, so real evidence should take over within a few pairs.
 */
export const CALIBRATION_PRIOR_DECAY = 0.5;

/** A drop of the used % larger than this, with no reset instant to tell, means the window reset. */
export const CALIBRATION_RESET_DROP_PERCENT = 5;

/** Where the last usable signal of a window left off. */
interface Anchor {
  usedPercent: number;
  /** Ledger spend on the window's models, cumulative, as a decimal string. */
  cumulativeUsd: string;
  observedAtMs: number;
  resetAtMs?: number;
}

/** What has been learnt about one window of one account; plain JSON. */
export interface WindowCalibration {
  anchor?: Anchor;
  /** Exponentially weighted Σ Δ% and Σ Δusd: the rate is their ratio. */
  sy: number;
  sx: number;
  /** Exponentially weighted Σ Δ%, for reports: how much rise of the window the estimate rests on. */
  evidencePercent: number;
  pairs: number;
}

/** Calibrations of every (account, window); plain JSON the service persists. */
export interface CalibrationState {
  version: 1;
  windows: Record<string, WindowCalibration>;
}

/** One usage signal together with the ledger at the instant it was observed. */
export interface CalibrationObservation {
  usedPercent: Decimal;
  observedAt: DateTime;
  resetAt?: DateTime;
  /** Ledger spend on the window's models up to `observedAt`, cumulative since any fixed origin. */
  cumulativeUsd: Decimal;
  /**
   * Ledger spend since the window's current instance began, when the caller knows where it began.
   * After a reset it turns the reset itself into an exact anchor (0 % at the reset).
   */
  usdSinceWindowStart?: Decimal;
}

/** The calibrated rate of a window. */
export interface Calibration {
  /** % of the window one API-equivalent USD consumes. */
  percentPerUsd: Decimal;
  /** Pairs behind it (0: the prior alone). */
  pairs: number;
  /** Weighted rise of the used % the estimate rests on. */
  evidencePercent: number;
}

function key(account: string, window: string): string {
  return `${account}\u0000${window}`;
}

/** A calibration that has seen nothing. */
export function emptyCalibrationState(): CalibrationState {
  return { version: 1, windows: {} };
}

function anchorOf(
  obs: CalibrationObservation,
  usedPercent = obs.usedPercent.toNumber(),
  usd = obs.cumulativeUsd,
): Anchor {
  const a: Anchor = { usedPercent, cumulativeUsd: usd.toString(), observedAtMs: obs.observedAt.toMillis() };
  if (obs.resetAt) a.resetAtMs = obs.resetAt.toMillis();
  return a;
}

function isReset(anchor: Anchor, obs: CalibrationObservation): boolean {
  if (anchor.resetAtMs !== undefined && obs.resetAt) {
    // A reset instant that moved forward by more than a minute is a new window instance.
    if (obs.resetAt.toMillis() - anchor.resetAtMs > 60_000) return true;
  }
  return obs.usedPercent.toNumber() < anchor.usedPercent - CALIBRATION_RESET_DROP_PERCENT;
}

/**
 * Learns from one usage signal: when the used % has risen by at least
 * {@link CALIBRATION_MIN_SPAN_PERCENT} since the anchor, the pair (ledger USD spent, % risen) is
 * added to exponentially weighted sums of rise and spend whose ratio is `percentPerUsd`, and the
 * signal becomes the new anchor. A ratio of sums rather than a least-squares slope: the
 * quantisation error of a pair is the same whatever its size, and with sums the errors of
 * consecutive pairs cancel (the end of one is the start of the next), leaving one quantum over the
 * whole rise; a slope would weigh pairs by spend squared and let one large pair dominate. A reset re-anchors at 0 % when the spend since the window began is known.
 * Returns a new state; the input is not modified.
 */
export function observeSignal(
  state: CalibrationState,
  account: string,
  window: string,
  obs: CalibrationObservation,
): CalibrationState {
  const k = key(account, window);
  const cur: WindowCalibration = state.windows[k] ?? { sy: 0, sx: 0, evidencePercent: 0, pairs: 0 };
  let next: WindowCalibration;
  const reset = cur.anchor !== undefined && isReset(cur.anchor, obs);
  let anchor = cur.anchor;
  if ((reset || !anchor) && obs.usdSinceWindowStart !== undefined) {
    // The window's instance began at 0 % with the ledger at (cumulative − since start): exact.
    anchor = anchorOf(obs, 0, obs.cumulativeUsd.minus(obs.usdSinceWindowStart));
  } else if (reset || !anchor) {
    next = { ...cur, anchor: anchorOf(obs) };
    return { version: 1, windows: { ...state.windows, [k]: next } };
  }
  const dp = obs.usedPercent.toNumber() - anchor.usedPercent;
  const du = obs.cumulativeUsd.minus(anchor.cumulativeUsd).toNumber();
  if (dp < CALIBRATION_MIN_SPAN_PERCENT) {
    // Not enough rise yet: keep the old anchor (a reset anchor is kept too) and wait.
    const kept: Anchor = { ...anchor };
    if (obs.resetAt) kept.resetAtMs = obs.resetAt.toMillis();
    next = { ...cur, anchor: kept };
  } else if (du <= 0) {
    // The window rose with no ledger spend: usage outside the fleet. Nothing to fit; move on.
    next = { ...cur, anchor: anchorOf(obs) };
  } else {
    const l = CALIBRATION_FORGETTING;
    next = {
      anchor: anchorOf(obs),
      sy: l * cur.sy + dp,
      sx: l * cur.sx + du,
      evidencePercent: l * cur.evidencePercent + dp,
      pairs: cur.pairs + 1,
    };
  }
  return { version: 1, windows: { ...state.windows, [k]: next } };
}

/**
 * The calibrated % per USD of a window, blended with a prior (`100 / capacityUsd` of the window's
 * spec, else of the policy's default capacity). The prior counts as
 * {@link CALIBRATION_PRIOR_SPAN_PERCENT} of evidence, halved with every pair learnt.
 *
 * @example
 * calibrationOf(state, 'max-a', 'weekly', dec(500)).percentPerUsd; // 0.2 before any signal
 */
export function calibrationOf(
  state: CalibrationState,
  account: string,
  window: string,
  priorCapacityUsd: Decimal,
): Calibration {
  const cur = state.windows[key(account, window)];
  const kp = 100 / priorCapacityUsd.toNumber();
  // Blend in units of evidence (percent of rise), not USD: a prior that is five times too small
  // would otherwise weigh five times as much as the same span of real evidence.
  const prior = CALIBRATION_PRIOR_SPAN_PERCENT * CALIBRATION_PRIOR_DECAY ** (cur?.pairs ?? 0);
  const evidence = cur && cur.sx > 0 ? cur.evidencePercent : 0;
  const learned = cur && cur.sx > 0 ? cur.sy / cur.sx : kp;
  const k = (evidence * learned + prior * kp) / (evidence + prior);
  return {
    percentPerUsd: dec(k.toPrecision(12)),
    pairs: cur?.pairs ?? 0,
    evidencePercent: cur?.evidencePercent ?? 0,
  };
}
