import type { DateTime } from 'luxon';
import { confidenceRank, type Confidence } from './confidence.js';

/** A reset instant with the confidence it was given. */
export interface HeldReset {
  resetAt: DateTime;
  confidence: Confidence;
}

/** The reset to keep, and which side won and why (for the audit trail). */
export interface ResetPrecedenceResult extends HeldReset {
  kept: 'held' | 'incoming';
  rule:
    | 'no-held'
    | 'held-passed'
    | 'incoming-passed'
    | 'higher-confidence'
    | 'same-confidence-newer'
    | 'lower-confidence';
}

/**
 * Merges a newly reported reset into the one held for a window, by confidence
 * (user > provider > estimated > unknown).
 *
 * - With nothing held, the incoming reset is kept.
 * - A held reset at or before `now` no longer blocks: that period is over (the window rolled
 *   over), so whatever arrives describes the new period and is kept.
 * - An incoming reset at or before `now` describes a period that is already over and is ignored
 *   while a future reset is held.
 * - Otherwise both describe the current period: the higher confidence wins; at equal confidence
 *   the incoming (newer) report wins; a lower confidence never overwrites a higher one.
 *
 * @example
 * applyResetPrecedence(
 *   { resetAt: friday17, confidence: 'user' },
 *   { resetAt: saturday09, confidence: 'provider' },
 *   now,
 * ); // keeps Friday 17:00 (user), rule 'lower-confidence'
 */
export function applyResetPrecedence(
  held: HeldReset | undefined,
  incoming: HeldReset,
  now: DateTime,
): ResetPrecedenceResult {
  const take = (rule: ResetPrecedenceResult['rule']): ResetPrecedenceResult => ({
    resetAt: incoming.resetAt,
    confidence: incoming.confidence,
    kept: 'incoming',
    rule,
  });
  if (!held) return take('no-held');
  const keep = (rule: ResetPrecedenceResult['rule']): ResetPrecedenceResult => ({
    resetAt: held.resetAt,
    confidence: held.confidence,
    kept: 'held',
    rule,
  });
  const nowMs = now.toMillis();
  if (held.resetAt.toMillis() <= nowMs) return take('held-passed');
  if (incoming.resetAt.toMillis() <= nowMs) return keep('incoming-passed');
  const h = confidenceRank(held.confidence);
  const i = confidenceRank(incoming.confidence);
  if (i > h) return take('higher-confidence');
  if (i === h) return take('same-confidence-newer');
  return keep('lower-confidence');
}
