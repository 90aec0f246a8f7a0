import type { Decimal } from 'decimal.js';
import type { Account } from './account.js';
import type { DispatchRequest } from './dispatch.js';
import type { FailureRule, Policy } from './policy.js';
import { estimateUsd, type PriceTable } from './prices.js';
import type { Trace } from './trace.js';

/** What the gate may answer while it cannot reach its database. */
export type FailOpen =
  | { allow: true; account: string; model: string; usd: Decimal; reason: string; trace: Trace }
  | { allow: false; reason: string; trace: Trace };

/** What {@link failOpenDecision} reads: the request, the configuration last known, and the cap spent. */
export interface FailOpenInput {
  request: DispatchRequest;
  /** The tenant's accounts as last read (the register itself is out of reach). */
  accounts: readonly Account[];
  policy: Policy;
  prices: PriceTable;
  /** USD this replica already allowed for an account in the current minute while the database was down. */
  allowedThisMinute: (account: string) => Decimal;
}

/** The fail mode of an account: its own rule, else the policy's. */
export function failureRuleFor(policy: Policy, account: string): FailureRule {
  const own = Object.hasOwn(policy.failure.accounts, account) ? policy.failure.accounts[account] : undefined;
  if (own) return own;
  return {
    onDatabaseDown: policy.failure.onDatabaseDown,
    ...(policy.failure.capUsdPerMinute !== undefined
      ? { capUsdPerMinute: policy.failure.capUsdPerMinute }
      : {}),
  };
}

/**
 * The degraded decision while the register is unreachable. Without the register there is no pacing,
 * no headroom and no exact ceiling to consult, so nothing is routed or downgraded: the task runs on the
 * account it names (or the first in routing order that serves its class and model) only if that
 * account's policy says `allow-capped`, and only while the USD this replica allowed it in the current
 * minute stays within the cap. Everything else fails closed.
 */
export function failOpenDecision(input: FailOpenInput): FailOpen {
  const { request, policy } = input;
  const trace: Trace = [
    { rule: 'failure.database', outcome: 'fail', note: 'the register database is unreachable' },
  ];
  const account = chooseAccount(input);
  if (!account) {
    trace.push({ rule: 'failure.account', outcome: 'fail', model: request.model });
    return { allow: false, reason: `no account serves ${request.model} for ${request.taskClass}`, trace };
  }
  const rule = failureRuleFor(policy, account.id);
  if (rule.onDatabaseDown !== 'allow-capped' || rule.capUsdPerMinute === undefined) {
    trace.push({ rule: 'failure.mode', outcome: 'fail', account: account.id, note: rule.onDatabaseDown });
    return { allow: false, reason: `${account.id} fails closed while the register is unreachable`, trace };
  }
  const usd = failOpenEstimate(input);
  if (!usd) {
    trace.push({ rule: 'failure.estimate', outcome: 'fail', account: account.id, model: request.model });
    return { allow: false, reason: `no price is known for ${request.model}, so no cap can bound it`, trace };
  }
  const allowed = input.allowedThisMinute(account.id);
  const after = allowed.plus(usd);
  const numbers = {
    estimateUsd: usd.toString(),
    allowedThisMinuteUsd: allowed.toString(),
    capUsdPerMinute: rule.capUsdPerMinute.toString(),
  };
  if (after.gt(rule.capUsdPerMinute)) {
    trace.push({ rule: 'failure.cap', outcome: 'fail', account: account.id, model: request.model, numbers });
    return {
      allow: false,
      reason: `${account.id}'s fail-open cap of $${rule.capUsdPerMinute.toString()}/min is spent ($${allowed.toString()} allowed this minute)`,
      trace,
    };
  }
  trace.push({ rule: 'failure.cap', outcome: 'pass', account: account.id, model: request.model, numbers });
  return {
    allow: true,
    account: account.id,
    model: request.model,
    usd,
    reason: `allowed without the register (unreachable) under ${account.id}'s fail-open cap: $${after.toString()} of $${rule.capUsdPerMinute.toString()} this minute`,
    trace,
  };
}

// The account a degraded decision may use: the one asked for, else the first in routing order (then
// configuration order) that lists the model and serves the task class.
function chooseAccount(input: FailOpenInput): Account | undefined {
  const { request, policy, accounts } = input;
  if (request.account !== undefined) {
    const named = accounts.find((a) => a.id === request.account);
    return named?.models.includes(request.model) ? named : undefined;
  }
  const cls = Object.hasOwn(policy.taskClasses, request.taskClass)
    ? policy.taskClasses[request.taskClass]
    : undefined;
  const rank = (a: Account): number => {
    const i = policy.routing.order.indexOf(a.id);
    return i === -1 ? policy.routing.order.length : i;
  };
  return [...accounts]
    .filter((a) => a.models.includes(request.model) && (!cls?.accounts || cls.accounts.includes(a.id)))
    .sort((a, b) => rank(a) - rank(b))[0];
}

// The task's USD on its own model: the request's USD, else its tokens (or its class's, or the policy's
// default) priced for the model. Unlike `decide`, an unpriced model is not priced at the dearest one:
// with the register out of reach a cap that cannot be computed fails closed.
function failOpenEstimate(input: FailOpenInput): Decimal | undefined {
  const { request, policy } = input;
  if (request.estimate?.usd !== undefined) return request.estimate.usd;
  const cls = Object.hasOwn(policy.taskClasses, request.taskClass)
    ? policy.taskClasses[request.taskClass]
    : undefined;
  if (cls?.estimate?.usd !== undefined && request.estimate?.tokens === undefined) return cls.estimate.usd;
  const tokens = request.estimate?.tokens ?? cls?.estimate?.tokens ?? policy.defaultEstimate.tokens;
  if (tokens === undefined) return policy.defaultEstimate.usd;
  return estimateUsd(input.prices, request.model, tokens);
}
