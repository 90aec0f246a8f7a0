import { sql } from 'kysely';
import type { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import {
  ceilingPeriodBounds,
  paceWindow,
  projectedExhaustionMs,
  type Account,
  type CeilingPeriod,
  type Confidence,
  type WindowPace,
  type WindowState,
} from '@mosaic/budget-core';
import type { FleetDb } from '../db/database.js';
import type { ConfigCache } from '../register/config-cache.js';
import { accountCeiling } from '../gate/snapshot.js';
import { instant, numeric } from '../register/wire.js';

/** One window of one account as observability shows it: the core's pace plus its projection. */
export interface WindowView {
  window: string;
  /** The core's pace of the window (without task-specific authorizations). */
  pace: WindowPace;
  /** Whether the register has had a signal (or a reset) for the window at all. */
  signalled: boolean;
  /** When the window runs out at the current period's average rate (may be after the reset). */
  projectedExhaustionMs?: number;
}

/** A metered account's hard ceiling and its current period's running totals. */
export interface CeilingView {
  usd: Decimal;
  period: CeilingPeriod;
  start: DateTime;
  end: DateTime;
  committedUsd: Decimal;
  reservedUsd: Decimal;
}

/** One account of one tenant. */
export interface AccountView {
  tenant: string;
  account: Account;
  windows: WindowView[];
  ceiling?: CeilingView;
  /** Queue entries waiting for this account. */
  queueDepth: number;
}

/**
 * Reads the register's small state tables (window state, running totals, queue) for the given
 * tenants, or all tenants, and computes each window's pace with the core. A fixed handful of
 * queries whatever the ledger's size: the ledger is never read.
 */
export async function readPaceState(
  db: FleetDb,
  configs: ConfigCache,
  now: DateTime,
  onlyTenants?: readonly string[],
): Promise<AccountView[]> {
  const tenants =
    onlyTenants ??
    (await db.selectFrom('fleet.tenants').select('id').orderBy('id').execute()).map((r) => r.id);
  if (tenants.length === 0) return [];
  const [states, totals, queue] = await Promise.all([
    db
      .selectFrom('fleet.window_state')
      .selectAll()
      .where('tenant_id', 'in', [...tenants])
      .execute(),
    db
      .selectFrom('fleet.period_totals')
      .select(['tenant_id', 'key', 'period', 'period_start', 'committed_usd', 'reserved_usd'])
      .where('tenant_id', 'in', [...tenants])
      .where('scope', '=', 'account')
      .where('period_end', '>', now.toJSDate())
      .execute(),
    db
      .selectFrom('fleet.queue_entries')
      .select(['tenant_id', 'account_id', sql<string | number>`count(*)`.as('n')])
      .where('tenant_id', 'in', [...tenants])
      .where('status', '=', 'waiting')
      .groupBy(['tenant_id', 'account_id'])
      .execute(),
  ]);
  const views: AccountView[] = [];
  for (const tenant of tenants) {
    const config = await configs.get(tenant);
    const policy = config.policy.policy;
    for (const account of config.accounts) {
      const windows: WindowView[] = account.windows.map((spec) => {
        const row = states.find(
          (s) => s.tenant_id === tenant && s.account_id === account.id && s.window_name === spec.name,
        );
        const state: WindowState | undefined = row
          ? {
              name: spec.name,
              usedPercent: numeric(row.used_percent),
              observedAt: instant(row.observed_at),
              unsignaledUsd: numeric(row.unsignaled_usd),
              reservedPercent: numeric(row.reserved_percent),
              ...(row.reset_at ? { resetAt: instant(row.reset_at) } : {}),
              confidence: row.reset_confidence as Confidence,
              ...(row.started_at ? { startedAt: instant(row.started_at) } : {}),
            }
          : undefined;
        const pace = paceWindow({ spec, state, timezone: account.timezone, now, policy });
        const exhaustion = projectedExhaustionMs(pace, now.toMillis());
        return {
          window: spec.name,
          pace,
          signalled: row !== undefined,
          ...(exhaustion !== undefined ? { projectedExhaustionMs: exhaustion } : {}),
        };
      });
      const view: AccountView = {
        tenant,
        account,
        windows,
        queueDepth: Number(queue.find((q) => q.tenant_id === tenant && q.account_id === account.id)?.n ?? 0),
      };
      const ceiling = accountCeiling(config, account);
      if (ceiling) {
        const { start, end } = ceilingPeriodBounds(ceiling.period, account.timezone, now);
        const row = totals.find(
          (t) =>
            t.tenant_id === tenant &&
            t.key === account.id &&
            t.period === ceiling.period &&
            instant(t.period_start).toMillis() === start.toMillis(),
        );
        view.ceiling = {
          usd: ceiling.usd,
          period: ceiling.period,
          start,
          end,
          committedUsd: numeric(row?.committed_usd),
          reservedUsd: numeric(row?.reserved_usd),
        };
      }
      views.push(view);
    }
  }
  return views;
}
