import type { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import {
  activeAuthorizations,
  type Account,
  type CeilingPeriod,
  type DispatchRequest,
} from '@mosaic/budget-core';
import type { TenantConfig } from '../register/config-cache.js';
import { periodAt } from '../register/periods.js';

/** A running-total row a reservation must fit under: committed + reserved + amount ≤ limit. */
export interface CeilingGuard {
  scope: 'account' | 'provider';
  key: string;
  period: CeilingPeriod;
  start: DateTime;
  end: DateTime;
  limitUsd: Decimal;
}

/** An in-flight counter a reservation increments, with its limit when one is set. */
export interface ConcurrencyGuard {
  scope: 'account' | 'provider' | 'tenant';
  key: string;
  limit?: number;
}

/** The limits the database enforces when a reservation is taken. */
export interface Guards {
  ceilings: CeilingGuard[];
  concurrency: ConcurrencyGuard[];
}

/**
 * The same limits `decide` checked, looked up from the same configuration (the account's ceiling or
 * the policy's, plus overspend authorizations in force as the core computes them), so the database's
 * conditional update enforces exactly what the decision assumed. The service decides nothing here:
 * it re-checks, atomically, what the core already said fits.
 */
export function guardsFor(
  config: TenantConfig,
  account: Account,
  request: DispatchRequest,
  now: DateTime,
): Guards {
  const policy = config.policy.policy;
  const auth = activeAuthorizations(
    config.authorizations,
    {
      account: account.id,
      provider: account.provider,
      taskClass: request.taskClass,
      ...(request.mission ? { mission: request.mission } : {}),
    },
    now.toMillis(),
  );
  const ceilings: CeilingGuard[] = [];
  const own =
    account.ceiling ??
    (Object.hasOwn(policy.ceilings.accounts, account.id) ? policy.ceilings.accounts[account.id] : undefined);
  if (own) {
    const { start, end } = periodAt(own.period, account.timezone, now);
    ceilings.push({
      scope: 'account',
      key: account.id,
      period: own.period,
      start,
      end,
      limitUsd: own.usd.plus(auth.overspendUsd),
    });
  }
  const prov = Object.hasOwn(policy.ceilings.providers, account.provider)
    ? policy.ceilings.providers[account.provider]
    : undefined;
  if (prov) {
    const { start, end } = periodAt(prov.period, 'UTC', now);
    ceilings.push({
      scope: 'provider',
      key: account.provider,
      period: prov.period,
      start,
      end,
      limitUsd: prov.usd.plus(auth.overspendUsd),
    });
  }
  const accLimit =
    account.concurrency ??
    (Object.hasOwn(policy.concurrency.accounts, account.id)
      ? policy.concurrency.accounts[account.id]
      : undefined);
  const provLimit = Object.hasOwn(policy.concurrency.providers, account.provider)
    ? policy.concurrency.providers[account.provider]
    : undefined;
  const concurrency: ConcurrencyGuard[] = [
    { scope: 'account', key: account.id, ...(accLimit !== undefined ? { limit: accLimit } : {}) },
    { scope: 'provider', key: account.provider, ...(provLimit !== undefined ? { limit: provLimit } : {}) },
    {
      scope: 'tenant',
      key: '*',
      ...(policy.concurrency.tenant !== undefined ? { limit: policy.concurrency.tenant } : {}),
    },
  ];
  return { ceilings, concurrency };
}
