import type { Decimal } from 'decimal.js';
import type { Authorization } from './authorization.js';
import { Money, ZERO } from './money.js';

/** What a task would be charged against: the scope an authorization must cover. */
export interface AuthorizationTarget {
  account: string;
  provider: string;
  taskClass: string;
  mission?: string;
}

/** The effect of every authorization in force for one target at one instant. */
export interface ActiveAuthorizations {
  /** The strongest `rapid` authorization: the ideal line rises `multiplier` times faster from `fromMs`. */
  rapid?: { id: string; multiplier: Decimal; fromMs: number; untilMs: number };
  /** Sum of the `overspend` amounts in force: allowed beyond a ceiling or beyond the pace line. */
  overspendUsd: Decimal;
  /** Whether an `urgency-bypass` authorization is in force (urgency still has to be a bypass level). */
  bypass: boolean;
  /** Ids of the authorizations that apply, for the trace. */
  ids: string[];
}

/** No authorization in force. */
export const NO_AUTHORIZATIONS: ActiveAuthorizations = Object.freeze({
  overspendUsd: ZERO,
  bypass: false,
  ids: [],
});

/** Whether an authorization is in force at `nowMs`: from ≤ now < until, and not revoked by then. */
export function authorizationInForce(a: Authorization, nowMs: number): boolean {
  if (a.from.toMillis() > nowMs || a.until.toMillis() <= nowMs) return false;
  return !(a.revokedAt && a.revokedAt.toMillis() <= nowMs);
}

/** Whether an authorization's scope covers a target: every field it names must match; an empty scope covers all. */
export function authorizationCovers(a: Authorization, t: AuthorizationTarget): boolean {
  const s = a.scope;
  return (
    (s.account === undefined || s.account === t.account) &&
    (s.provider === undefined || s.provider === t.provider) &&
    (s.taskClass === undefined || s.taskClass === t.taskClass) &&
    (s.mission === undefined || s.mission === t.mission)
  );
}

/**
 * Folds the authorizations that are in force and cover `target` into their effect: the highest
 * rapid multiplier (ties: the earliest start, then the id), the sum of overspend amounts, and
 * whether any urgency bypass applies. Overspend amounts are a standing allowance while in force;
 * the register, not the core, decides whether one has been used up.
 */
export function activeAuthorizations(
  auths: readonly Authorization[],
  target: AuthorizationTarget,
  nowMs: number,
): ActiveAuthorizations {
  if (auths.length === 0) return NO_AUTHORIZATIONS;
  let rapid: ActiveAuthorizations['rapid'];
  let overspendUsd = ZERO;
  let bypass = false;
  const ids: string[] = [];
  for (const a of auths) {
    if (!authorizationInForce(a, nowMs) || !authorizationCovers(a, target)) continue;
    ids.push(a.id);
    if (a.kind === 'rapid' && a.multiplier) {
      const fromMs = a.from.toMillis();
      const better =
        !rapid ||
        a.multiplier.gt(rapid.multiplier) ||
        (a.multiplier.eq(rapid.multiplier) &&
          (fromMs < rapid.fromMs || (fromMs === rapid.fromMs && a.id < rapid.id)));
      if (better) rapid = { id: a.id, multiplier: a.multiplier, fromMs, untilMs: a.until.toMillis() };
    } else if (a.kind === 'overspend' && a.amountUsd) {
      // A first amount within the precision of a sum is its own sum: keeping the object saves an
      // addition on every account the gate looks at, and lets memos keyed on it hit.
      overspendUsd =
        overspendUsd === ZERO && a.amountUsd.sd() <= Money.precision
          ? a.amountUsd
          : overspendUsd.plus(a.amountUsd);
    } else if (a.kind === 'urgency-bypass') {
      bypass = true;
    }
  }
  if (ids.length === 0) return NO_AUTHORIZATIONS;
  ids.sort();
  return rapid ? { rapid, overspendUsd, bypass, ids } : { overspendUsd, bypass, ids };
}

/** The authorizations in force for one task, folded for one account it could run on. */
export type TaskAuthorizations = (account: string, provider: string) => ActiveAuthorizations;

/**
 * {@link activeAuthorizations} for one task on each account the gate looks at. The authorizations
 * are filtered once on what every account shares (the instant, the task class, the mission); after
 * that only `account` and `provider` of a scope can tell two accounts apart, so an account that no
 * authorization names by id has the fold of any other such account of its provider, kept once.
 */
export function taskAuthorizations(
  auths: readonly Authorization[],
  task: Pick<AuthorizationTarget, 'taskClass' | 'mission'>,
  nowMs: number,
): TaskAuthorizations {
  const inForce = auths.filter(
    (a) =>
      authorizationInForce(a, nowMs) &&
      (a.scope.taskClass === undefined || a.scope.taskClass === task.taskClass) &&
      (a.scope.mission === undefined || a.scope.mission === task.mission),
  );
  if (inForce.length === 0) return () => NO_AUTHORIZATIONS;
  const named = new Set<string>();
  for (const a of inForce) if (a.scope.account !== undefined) named.add(a.scope.account);
  const byProvider = new Map<string, ActiveAuthorizations>();
  return (account, provider) => {
    const shared = !named.has(account);
    if (shared) {
      const hit = byProvider.get(provider);
      if (hit) return hit;
    }
    const folded = activeAuthorizations(
      inForce,
      {
        account,
        provider,
        taskClass: task.taskClass,
        ...(task.mission !== undefined ? { mission: task.mission } : {}),
      },
      nowMs,
    );
    if (shared) byProvider.set(provider, folded);
    return folded;
  };
}
