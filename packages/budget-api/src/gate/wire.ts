import type { Decision, Trace } from '@mosaic/budget-core';
import { iso } from '../register/wire.js';

/** The body of a `POST /v1/gate` answer. */
export interface GateAnswer {
  decision: Decision['decision'];
  account?: string;
  model?: string;
  reservationId?: string;
  queueId?: string;
  retryAt?: string;
  expiresAt?: string;
  reserve?: { usd: string; windows: { window: string; percent: string }[] };
  reason: string;
  trace: Trace;
  /** True when this answer repeats an earlier one for the same taskId (a retry). */
  replayed?: boolean;
  /**
   * True when the register was unreachable and the account's policy let the gate allow under its
   * fail-open cap: nothing is reserved (there is no reservationId); record the spend with
   * `POST /v1/spend` when the task ends.
   */
  failOpen?: boolean;
}

/** A decision as the wire carries it (decimals and instants as strings). */
export function decisionToWire(d: Decision): GateAnswer {
  const answer: GateAnswer = { decision: d.decision, reason: d.reason, trace: d.trace };
  if (d.account !== undefined) answer.account = d.account;
  if (d.model !== undefined) answer.model = d.model;
  if (d.decision !== 'refuse') {
    answer.reserve = {
      usd: d.reserve.usd.toString(),
      windows: d.reserve.windows.map((w) => ({ window: w.window, percent: w.percent.toString() })),
    };
  }
  if (d.decision === 'queue') answer.retryAt = iso(d.retryAt);
  return answer;
}
