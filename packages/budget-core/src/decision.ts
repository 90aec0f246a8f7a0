import type { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import type { Trace } from './trace.js';

/** What an admitted task holds until it commits, releases or expires: USD and % of each window. */
export interface ReservationAmount {
  usd: Decimal;
  windows: { window: string; percent: Decimal }[];
}

/** Fields every decision carries. */
interface DecisionBase {
  reason: string;
  trace: Trace;
}

/** The task may start now: as asked (`allow`), on a cheaper model (`downgrade`) or another account (`reroute`). */
export interface AdmitDecision extends DecisionBase {
  decision: 'allow' | 'downgrade' | 'reroute';
  account: string;
  model: string;
  reserve: ReservationAmount;
}

/** Nothing fits now; it will fit at `retryAt` on `account`/`model` (the cheapest floor that can serve). */
export interface QueueDecision extends DecisionBase {
  decision: 'queue';
  account: string;
  model: string;
  retryAt: DateTime;
  /** What will be reserved when admitted. */
  reserve: ReservationAmount;
}

/** The last resort: no mapped account can run it before its deadline, queueing is forbidden, or it exceeds a window. */
export interface RefuseDecision extends DecisionBase {
  decision: 'refuse';
  account?: string;
  model?: string;
}

/** The gate's answer: a tagged union, never an exception. */
export type Decision = AdmitDecision | QueueDecision | RefuseDecision;
