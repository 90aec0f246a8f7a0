import type { DateTime } from 'luxon';
import type { Confidence } from './confidence.js';
import type { UsageSignal } from './signal.js';
import { applyResetPrecedence, type ResetPrecedenceResult } from './reset-precedence.js';

/** What the register holds of a window: the instant of its newest reading, and its reset. */
export interface HeldReading {
  observedAt: DateTime;
  resetAt?: DateTime;
  /** The held reset's confidence (`unknown` while no reset is held). */
  confidence: Confidence;
}

/** What folding one usage signal into its window did. */
export interface FoldedSignal {
  /** The window's reading after the signal. */
  held: HeldReading;
  /**
   * The signal is now the window's newest reading: its used % and instant are taken, and spend not
   * yet signalled restarts at zero (the reading includes it). Otherwise the used % held stays.
   */
  newer: boolean;
  /** Which reset was kept and by which rule; absent when the signal carried no reset. */
  reset?: Pick<ResetPrecedenceResult, 'kept' | 'rule'>;
  /** Present when the signal claimed an instant after the register's clock: it counts as observed then. */
  clampedTo?: DateTime;
}

/**
 * Whether a signal claims to be observed after the register's clock. The register takes such a
 * reading as observed at its own `now`; a caller that keeps an audit of what was sent checks
 * whether it received this very reading before (see {@link foldSignal}'s `repeated`).
 */
export function observedAfter(signal: UsageSignal, now: DateTime): boolean {
  return signal.observedAt.toMillis() > now.toMillis();
}

/**
 * Folds one usage signal into its window's held reading, by the register's rules. Signals of a batch
 * are folded oldest first, each into the result of the one before.
 *
 * - A reading newer than the held one is taken; an older or equal one leaves the used % as it is.
 * - A reading "from the future" (a host whose clock runs ahead) is taken as observed at `now`: the
 *   register never believes an instant later than its clock, or every true reading until then would
 *   look older and be dropped. Several such readings share `now`; the later folded one is the newer.
 * - `repeated` says the register already received this clamped reading as sent (a retry): it would
 *   otherwise look newer at every arrival and zero the window's unsignaled spend each time, so it is
 *   stale.
 * - The reset, when the signal carries one, is merged by {@link applyResetPrecedence}, whether or not
 *   the reading was newer.
 */
export function foldSignal(
  held: HeldReading | undefined,
  signal: UsageSignal,
  now: DateTime,
  repeated: boolean,
): FoldedSignal {
  const clamped = observedAfter(signal, now);
  const observedAt = clamped ? now : signal.observedAt;
  const heldMs = held?.observedAt.toMillis();
  const newer =
    !repeated &&
    (heldMs === undefined || heldMs < observedAt.toMillis() || (clamped && heldMs === observedAt.toMillis()));
  let next: HeldReading = held
    ? { ...held, ...(newer ? { observedAt } : {}) }
    : { observedAt, confidence: 'unknown' };
  let reset: FoldedSignal['reset'];
  if (signal.resetAt) {
    const r = applyResetPrecedence(
      next.resetAt ? { resetAt: next.resetAt, confidence: next.confidence } : undefined,
      { resetAt: signal.resetAt, confidence: signal.confidence },
      now,
    );
    next = { ...next, resetAt: r.resetAt, confidence: r.confidence };
    reset = { kept: r.kept, rule: r.rule };
  }
  return { held: next, newer, ...(reset ? { reset } : {}), ...(clamped ? { clampedTo: now } : {}) };
}
