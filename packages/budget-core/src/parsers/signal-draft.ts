import type { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import type { Confidence } from '../confidence.js';

/**
 * A usage signal read from an agent's own output, before it is attributed to an account: the caller
 * (CLI, proxy) knows which account the log, status line or response belongs to; the parser does not.
 */
export interface SignalDraft {
  /** Our window name: `session` for a 5-hour window, `weekly` for a 7-day one, else `<minutes>m`. */
  window: string;
  usedPercent: Decimal;
  resetAt?: DateTime;
  confidence: Confidence;
  observedAt: DateTime;
  /** Where it came from: `claude-code-log`, `codex-log`, `statusline`, `header`. */
  source: string;
}

/** The window names this project gives the providers' 5-hour and 7-day limit windows. */
export const WINDOW_NAMES = { fiveHour: 'session', sevenDay: 'weekly' } as const;

/** Our window name for a provider window of `minutes` length (300 → session, 10080 → weekly). */
export function windowNameForMinutes(minutes: number): string {
  if (minutes === 300) return WINDOW_NAMES.fiveHour;
  if (minutes === 10_080) return WINDOW_NAMES.sevenDay;
  return `${minutes}m`;
}
