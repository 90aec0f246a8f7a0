import { sql, type Kysely, type Selectable } from 'kysely';
import type { DateTime } from 'luxon';
import {
  ceilingPeriodBounds,
  type Account,
  type AccountSnapshot,
  type Ceiling,
  type Confidence,
  type PeriodTotals,
  type Snapshot,
  type WindowState,
} from '@mosaic/budget-core';
import type { FleetDatabase } from '../db/schema.js';
import type { TenantConfig } from '../register/config-cache.js';
import { instant, iso, numeric } from '../register/wire.js';

/**
 * The ceiling that binds an account: its own, else the policy's entry for it. Which one applies is
 * configuration lookup, not a budgeting rule: the core's `decide` reads the same two places.
 */
export function accountCeiling(config: TenantConfig, account: Account): Ceiling | undefined {
  return account.ceiling ?? config.policy.policy.ceilings.accounts[account.id];
}

/** A current period-totals row, as read once per snapshot. */
type TotalsRow = Pick<
  Selectable<FleetDatabase['fleet.period_totals']>,
  'scope' | 'key' | 'period' | 'period_start' | 'committed_usd' | 'reserved_usd'
>;

/** A ceiling period's running totals, picked from the rows read for the snapshot (zeros when absent). */
function periodTotals(
  rows: readonly TotalsRow[],
  scope: 'account' | 'provider',
  key: string,
  ceiling: Ceiling,
  timezone: string,
  now: DateTime,
): PeriodTotals {
  const { start, end } = ceilingPeriodBounds(ceiling.period, timezone, now);
  const startMs = start.toMillis();
  const row = rows.find(
    (r) =>
      r.scope === scope &&
      r.key === key &&
      r.period === ceiling.period &&
      instant(r.period_start).toMillis() === startMs,
  );
  return {
    start,
    end,
    committedUsd: numeric(row?.committed_usd),
    reservedUsd: numeric(row?.reserved_usd),
  };
}

/**
 * Builds the snapshot `decide` reads from the register: window states, ceiling-period totals and
 * in-flight counts, each from its own small table (never the ledger), so its cost does not grow with
 * the ledger.
 */
export async function buildSnapshot(
  db: Kysely<FleetDatabase>,
  tenantId: string,
  config: TenantConfig,
  now: DateTime,
): Promise<Snapshot> {
  // Three reads whatever the number of accounts: a query per account's ceiling made the gate's cost
  // grow with the fleet (100 accounts cost ~120 round trips per decision). Only periods that have not
  // ended are read, so the rows kept for past periods do not grow it either.
  const [states, inflight, totals] = await Promise.all([
    db.selectFrom('fleet.window_state').selectAll().where('tenant_id', '=', tenantId).execute(),
    // In flight = live reservations, counted from the source of truth (their number is bounded by the
    // tasks running now, not by history), so no counter can drift from it.
    db
      .selectFrom('fleet.reservations')
      .select(['account_id', 'provider', sql<string>`count(*)::text`.as('n')])
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'live')
      .groupBy(['account_id', 'provider'])
      .execute(),
    db
      .selectFrom('fleet.period_totals')
      .select(['scope', 'key', 'period', 'period_start', 'committed_usd', 'reserved_usd'])
      .where('tenant_id', '=', tenantId)
      .where('period_end', '>', iso(now))
      .execute(),
  ]);
  const inflightOf = (scope: 'account' | 'provider' | 'tenant', key: string): number =>
    inflight
      .filter((r) => scope === 'tenant' || (scope === 'account' ? r.account_id : r.provider) === key)
      .reduce((sum, r) => sum + Number(r.n), 0);

  const accounts: AccountSnapshot[] = [];
  for (const account of config.accounts) {
    const windows: WindowState[] = [];
    for (const spec of account.windows) {
      const s = states.find((r) => r.account_id === account.id && r.window_name === spec.name);
      if (!s) continue;
      windows.push({
        name: spec.name,
        usedPercent: numeric(s.used_percent),
        observedAt: instant(s.observed_at),
        unsignaledUsd: numeric(s.unsignaled_usd),
        reservedPercent: numeric(s.reserved_percent),
        ...(s.reset_at ? { resetAt: instant(s.reset_at) } : {}),
        confidence: s.reset_confidence as Confidence,
        ...(s.started_at ? { startedAt: instant(s.started_at) } : {}),
      });
    }
    const ceiling = accountCeiling(config, account);
    const snapshot: AccountSnapshot = { account, windows, inflight: inflightOf('account', account.id) };
    if (ceiling) {
      snapshot.period = periodTotals(totals, 'account', account.id, ceiling, account.timezone, now);
    }
    accounts.push(snapshot);
  }
  const providers: Snapshot['providers'] = {};
  for (const provider of new Set(config.accounts.map((a) => a.provider))) {
    const ceiling = config.policy.policy.ceilings.providers[provider];
    providers[provider] = {
      inflight: inflightOf('provider', provider),
      ...(ceiling ? { period: periodTotals(totals, 'provider', provider, ceiling, 'UTC', now) } : {}),
    };
  }
  return {
    tenantId,
    accounts,
    providers,
    tenantInflight: inflightOf('tenant', '*'),
    authorizations: config.authorizations,
  };
}

/** The database's clock, so expiry and reservations agree across replicas whatever their own clocks say. */
export async function databaseNow(db: Kysely<FleetDatabase>): Promise<Date> {
  const result = await sql<{ now: Date | string }>`select now() as now`.execute(db);
  const value = result.rows[0]?.now;
  return value instanceof Date ? value : new Date(String(value));
}
