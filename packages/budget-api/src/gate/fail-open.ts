import { dec, ZERO, failOpenDecision, priceTable, type DispatchRequest } from '@mosaic/budget-core';
import type { Decimal } from 'decimal.js';
import type { TenantConfig } from '../register/config-cache.js';
import type { GateAnswer } from './wire.js';

const MINUTE_MS = 60_000;
// Decisions made without the register wait here for it to come back, then join the audit table.
const MAX_PENDING_AUDITS = 10_000;

/** A fail-open decision not yet written to the audit table. */
export interface PendingAudit {
  tenantId: string;
  taskId: string;
  answer: GateAnswer;
}

/**
 * The per-replica side of failing open: the USD this replica allowed per account in the current
 * minute while the database was unreachable (the cap is per replica, as the policy documents: no
 * replica can ask the others), and the decisions waiting to be audited once the database is back.
 */
export class FailOpenLedger {
  private readonly minutes = new Map<string, { minute: number; usd: Decimal }>();
  private readonly pending: PendingAudit[] = [];
  /** Fail-open decisions dropped from the audit queue because it was full. */
  droppedAudits = 0;

  /**
   * The degraded answer for a request while the database is unreachable, or undefined to fail closed
   * (no configuration known to this replica, or the core said no).
   */
  decide(
    tenantId: string,
    config: TenantConfig | undefined,
    request: DispatchRequest,
    nowMs: number,
  ): GateAnswer | undefined {
    if (!config) return undefined;
    const minute = Math.floor(nowMs / MINUTE_MS);
    const policy = config.policy.policy;
    const spent = (account: string): Decimal => {
      const m = this.minutes.get(`${tenantId}\u0000${account}`);
      return m && m.minute === minute ? m.usd : ZERO;
    };
    const d = failOpenDecision({
      request,
      accounts: config.accounts,
      policy,
      prices: priceTable(policy),
      allowedThisMinute: spent,
    });
    if (!d.allow) return undefined;
    this.minutes.set(`${tenantId}\u0000${d.account}`, { minute, usd: spent(d.account).plus(d.usd) });
    const answer: GateAnswer = {
      decision: 'allow',
      account: d.account,
      model: d.model,
      reserve: { usd: d.usd.toString(), windows: [] },
      reason: d.reason,
      trace: d.trace,
      failOpen: true,
    };
    if (this.pending.length < MAX_PENDING_AUDITS)
      this.pending.push({ tenantId, taskId: request.taskId, answer });
    else this.droppedAudits++;
    return answer;
  }

  /** The decisions waiting for the audit table (removed from the queue). */
  takePending(): PendingAudit[] {
    return this.pending.splice(0, this.pending.length);
  }

  /** Puts back decisions that could not be written yet (the database is still down). */
  putBack(audits: PendingAudit[]): void {
    this.pending.unshift(...audits.slice(0, Math.max(0, MAX_PENDING_AUDITS - this.pending.length)));
  }

  /** USD allowed for an account this minute (for tests and metrics). */
  allowedThisMinute(tenantId: string, account: string, nowMs: number): Decimal {
    const m = this.minutes.get(`${tenantId}\u0000${account}`);
    return m && m.minute === Math.floor(nowMs / MINUTE_MS) ? m.usd : dec(0);
  }
}
