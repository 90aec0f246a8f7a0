import type { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import type { Account } from './account.js';
import type { Authorization } from './authorization.js';
import type { Confidence } from './confidence.js';

/** What the register knows about one limit window of one account at the instant of a decision. */
export interface WindowState {
  name: string;
  /** Used % from the newest usage signal (may exceed 100). */
  usedPercent: Decimal;
  /** When that signal was observed. */
  observedAt: DateTime;
  /** Actual spend on models this window counts since `observedAt`, in API-equivalent USD (not yet in a signal). */
  unsignaledUsd?: Decimal;
  /** % of the window held by live reservations. */
  reservedPercent: Decimal;
  resetAt?: DateTime;
  confidence: Confidence;
  /** Rolling windows: when the current window began (its first use). */
  startedAt?: DateTime;
  /** Calibration: % of this window one API-equivalent USD consumes. */
  percentPerUsd?: Decimal;
}

/** Spend against a hard ceiling in its current calendar period. */
export interface PeriodTotals {
  start: DateTime;
  end: DateTime;
  committedUsd: Decimal;
  reservedUsd: Decimal;
}

/** One account as the gate sees it. */
export interface AccountSnapshot {
  account: Account;
  /** States of the account's windows that have had a signal; a window without one is not paced. */
  windows: WindowState[];
  /** Totals for the account's ceiling period (the account's own or the policy's ceiling). */
  period?: PeriodTotals;
  /** Tasks in flight (live reservations) on this account. */
  inflight: number;
}

/** The register's state that a decision reads: built by the service, simulated by the simulator. */
export interface Snapshot {
  tenantId: string;
  accounts: AccountSnapshot[];
  /** Per provider: tasks in flight, and ceiling-period totals when the policy sets a provider ceiling. */
  providers: Record<string, { inflight: number; period?: PeriodTotals }>;
  /** Tasks in flight for the whole tenant. */
  tenantInflight: number;
  /** Authorizations in force or not (decide checks `from`/`until`/`revokedAt` against `now`). */
  authorizations: Authorization[];
}
