import type { Decimal } from 'decimal.js';
import { ZERO } from './money.js';
import { memoized } from './memo.js';
import { windowBurstPercent, windowPercentPerUsd, type WindowHeadroomInput } from './headroom.js';
import { currentWindowMs, type EffectiveWindowMs } from './window-schedule.js';

/**
 * A window's headroom known to within `error` percentage points: the exact (decimal) headroom of
 * {@link windowHeadroom} lies in `[percent − error, percent + error]`. `error` 0 means exact (the
 * headroom is certainly 0, because usage is certainly past the cap).
 */
export interface HeadroomEstimate {
  percent: number;
  error: number;
  /** The ideal line at now (`idealPercent`), within `bound`. */
  ideal?: number;
  /** How high usage may go now (`capPercent`), within `bound`. */
  cap?: number;
  /** The overspend allowance in percentage points (`allowancePercent`), within `bound`. */
  allowance?: number;
  /** The error bound of `ideal`, `cap` and `allowance` (never 0). */
  bound?: number;
}

// The float computation below takes about a dozen roundings of at most 2^-53 relative each, every
// intermediate being at most the sum of the magnitudes of the terms; 2^-45 of that sum leaves a
// margin of more than a hundred roundings, and also covers the 40-digit roundings of the decimal
// computation it stands in for (about 1e-39 relative each).
const ERROR_PER_MAGNITUDE = 2 ** -45;

/** A decimal as the nearest double, memoised per (immutable) decimal: toNumber parses its text. */
export const num = memoized((d: Decimal): number => d.toNumber());

/**
 * The same ideal line as `idealPercentAt` with L = 100, in doubles. 100 × elapsed is an exact
 * integer in a double, so the plain line costs one rounding.
 */
function idealAt(
  startMs: number,
  resetMs: number,
  tMs: number,
  rapid: { multiplier: Decimal; fromMs: number } | undefined,
  base: number,
): number {
  if (base !== 0) {
    if (base >= 100) return 100;
    return base + (idealAt(startMs, resetMs, tMs, rapid, 0) * (100 - base)) / 100;
  }
  if (tMs <= startMs) return 0;
  if (tMs >= resetMs && !rapid) return 100;
  const periodMs = resetMs - startMs;
  let v: number;
  if (rapid && tMs > Math.max(rapid.fromMs, startMs)) {
    const a = Math.max(rapid.fromMs, startMs);
    v = (100 * (num(rapid.multiplier) * (tMs - a) + (a - startMs))) / periodMs;
  } else {
    v = ((tMs - startMs) * 100) / periodMs;
  }
  return v > 100 ? 100 : v;
}

/** B in doubles: the decimal B of `windowHeadroom` (memoised there), converted (memoised here). */
function burstNumber(burst: WindowHeadroomInput['burst'], periodMs: number): number {
  return num(windowBurstPercent(burst, periodMs));
}

/**
 * The headroom of {@link windowHeadroom} computed in doubles with a bound on its error, for ranking
 * many accounts without a decimal division per window: the gate compares estimates whose intervals
 * do not overlap, prints them when the fourth decimal is certain ({@link estimateToFixed4}), and
 * computes the exact decimal otherwise. `window` is the period already computed for `input`, if any.
 */
export function headroomEstimate(input: WindowHeadroomInput, window?: EffectiveWindowMs): HeadroomEstimate {
  const { spec, state, nowMs } = input;
  const w = window ?? currentWindowMs(spec, input.timezone, state, nowMs);
  const ppu = num(windowPercentPerUsd(spec, state, input.defaultCapacityUsd));
  const seen = state ? num(state.usedPercent) : 0;
  const signalled = w.signalInWindow ? seen : 0;
  const unsignaled = state?.unsignaledUsd ? num(state.unsignaledUsd) * ppu : 0;
  const used = signalled + unsignaled;
  const reserved = state ? num(state.reservedPercent) : 0;
  const auth = input.authorizations;
  const base = w.basis === 'latest-plausible' && w.signalInWindow && state ? (seen > 100 ? 100 : seen) : 0;
  const ideal = idealAt(w.startMs, w.resetMs, nowMs, auth?.rapid, base);
  const burst = burstNumber(input.burst, w.resetMs - w.startMs);
  const allowance = auth ? num(auth.overspendUsd) * ppu : 0;
  let cap = input.bypass === true ? 100 : ideal + burst + allowance;
  if (cap > 100) cap = 100;
  const room = cap - used - reserved;
  const magnitude =
    100 +
    Math.abs(ideal) +
    Math.abs(burst) +
    Math.abs(allowance) +
    Math.abs(signalled) +
    Math.abs(unsignaled) +
    Math.abs(reserved) +
    Math.abs(base);
  const error = magnitude * ERROR_PER_MAGNITUDE;
  // Usage certainly past the cap: the decimal headroom is exactly 0, as is this one.
  if (room < -error) return { percent: 0, error: 0, ideal, cap, allowance, bound: error };
  return { percent: room > 0 ? room : 0, error, ideal, cap, allowance, bound: error };
}

/**
 * The estimate rounded half-up to four decimals as text, exactly as `Decimal#toFixed(4)` prints the
 * exact headroom, or undefined when the estimate is too close to a rounding boundary to be sure.
 */
export function estimateToFixed4(e: Pick<HeadroomEstimate, 'percent' | 'error'>): string | undefined {
  // The text below is built for numbers ≥ 0 (every percentage printed this way is).
  if (!(e.percent >= 0)) return undefined;
  const scaled = e.percent * 10_000;
  // Scaling adds one more rounding of the product.
  const tolerance = e.error * 10_000 + scaled * 2 ** -50;
  // Written as a negated test so that a NaN or infinite error (inputs beyond a double) is unsure too.
  if (e.error !== 0 && !(Math.abs(scaled - Math.floor(scaled) - 0.5) > tolerance)) return undefined;
  const n = Math.floor(scaled + 0.5);
  const whole = Math.floor(n / 10_000);
  return `${whole}.${String(n - whole * 10_000).padStart(4, '0')}`;
}

const sameDecimal = (a: Decimal | undefined, b: Decimal | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.eq(b));

/**
 * Whether two windows' headrooms are certainly equal because everything {@link windowHeadroom}
 * reads is equal: the period, the instant, the conversion to percent, the state's numbers, the
 * burst setting and the authorizations' effect. Cheaper than computing either headroom, so the gate
 * uses it to order accounts that report the same usage against the same schedule.
 */
export function sameHeadroomInputs(
  a: WindowHeadroomInput,
  pa: EffectiveWindowMs,
  b: WindowHeadroomInput,
  pb: EffectiveWindowMs,
): boolean {
  if (
    a.nowMs !== b.nowMs ||
    pa.startMs !== pb.startMs ||
    pa.resetMs !== pb.resetMs ||
    pa.signalInWindow !== pb.signalInWindow ||
    pa.basis !== pb.basis ||
    a.burst !== b.burst ||
    (a.bypass === true) !== (b.bypass === true) ||
    (a.state === undefined) !== (b.state === undefined)
  )
    return false;
  const ra = a.authorizations?.rapid;
  const rb = b.authorizations?.rapid;
  if (ra !== rb && !(ra && rb && ra.fromMs === rb.fromMs && ra.multiplier.eq(rb.multiplier))) return false;
  return (
    sameDecimal(a.authorizations?.overspendUsd ?? ZERO, b.authorizations?.overspendUsd ?? ZERO) &&
    sameDecimal(
      windowPercentPerUsd(a.spec, a.state, a.defaultCapacityUsd),
      windowPercentPerUsd(b.spec, b.state, b.defaultCapacityUsd),
    ) &&
    sameDecimal(a.state?.usedPercent, b.state?.usedPercent) &&
    sameDecimal(a.state?.unsignaledUsd ?? ZERO, b.state?.unsignaledUsd ?? ZERO) &&
    sameDecimal(a.state?.reservedPercent, b.state?.reservedPercent)
  );
}
