import type { WindowPace } from './pacing.js';
import { LIMIT_PERCENT } from './headroom.js';

/**
 * When a window would reach its limit if usage kept growing at the current period's average rate
 * (used % ÷ elapsed time since the period's start), in epoch ms. The instant may lie after the
 * reset: then the window is projected to last, and callers compare it with `resetAt`. `nowMs` when
 * the limit is already reached; `undefined` when nothing is used yet or no time has elapsed (no rate).
 * @example projectedExhaustionMs(pace, now.toMillis()) // 40% used 2 of 7 days in: start + 5 days
 */
export function projectedExhaustionMs(
  pace: Pick<WindowPace, 'usedPercent' | 'headroom'>,
  nowMs: number,
): number | undefined {
  const used = pace.usedPercent;
  if (used.gte(LIMIT_PERCENT)) return nowMs;
  const elapsed = nowMs - pace.headroom.startMs;
  if (elapsed <= 0 || used.lte(0)) return undefined;
  // Remaining % over the rate (used / elapsed), kept in decimals until the final rounding to a ms.
  const remainingMs = LIMIT_PERCENT.minus(used).times(elapsed).div(used);
  return nowMs + Math.ceil(remainingMs.toNumber());
}
