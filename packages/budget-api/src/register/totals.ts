import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import { ZERO, type CeilingPeriod } from '@mosaic/budget-core';
import type { FleetDatabase } from '../db/schema.js';
import { TOTAL_PERIODS, periodAt } from './periods.js';
import { pgArray } from './pg-array.js';

/** One running-total row addressed by scope, key, period and the period's start. */
export interface TotalKey {
  scope: 'account' | 'provider';
  key: string;
  period: CeilingPeriod;
  start: DateTime;
  end: DateTime;
}

/** Amounts to add to one running-total row. */
export interface TotalDelta extends TotalKey {
  committed: Decimal;
  projected: Decimal;
  /** Change of the reserved amount (negative when a reservation is settled). */
  reserved?: Decimal;
}

/**
 * The running-total rows one spend lands in: every period of its account (in the account's zone)
 * and of its provider (in UTC).
 */
export function totalKeysFor(account: string, provider: string, timezone: string, at: DateTime): TotalKey[] {
  const keys: TotalKey[] = [];
  for (const period of TOTAL_PERIODS) {
    const a = periodAt(period, timezone, at);
    keys.push({ scope: 'account', key: account, period, start: a.start, end: a.end });
    const p = periodAt(period, 'UTC', at);
    keys.push({ scope: 'provider', key: provider, period, start: p.start, end: p.end });
  }
  return keys;
}

function keyText(k: TotalKey): string {
  return `${k.scope}\u0000${k.key}\u0000${k.period}\u0000${k.start.toMillis()}`;
}

// The instant as UTC ISO text, what iso() writes, without luxon's formatter: a batch passes hundreds.
function utcText(at: DateTime): string {
  return new Date(at.toMillis()).toISOString();
}

/** Sums deltas that land on the same row, so a batch touches each row once. */
export function mergeDeltas(deltas: TotalDelta[]): TotalDelta[] {
  const merged = new Map<string, TotalDelta>();
  for (const d of deltas) {
    const k = keyText(d);
    const held = merged.get(k);
    if (held) {
      held.committed = held.committed.plus(d.committed);
      held.projected = held.projected.plus(d.projected);
      held.reserved = (held.reserved ?? ZERO).plus(d.reserved ?? ZERO);
    } else {
      merged.set(k, { ...d });
    }
  }
  // A fixed order makes concurrent batches lock rows in the same sequence, so they cannot deadlock.
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

/**
 * The statement that adds amounts to running totals, creating rows as needed, or undefined when the
 * deltas change nothing. Its rows are in a fixed order (so row locks are taken in that order and are
 * held for a single round trip) and travel as one array per column (`unnest … with ordinality`,
 * inserted in that order): a batch touching hundreds of rows is an 8-parameter statement for
 * PostgreSQL to parse, not one with nine parameters per row. `onlyAfter`, a condition on other parts
 * of an enclosing statement, is evaluated once before any row is touched (see spend.ts).
 */
export function totalsUpsert(
  tenantId: string,
  deltas: TotalDelta[],
  onlyAfter?: RawBuilder<unknown>,
): RawBuilder<unknown> | undefined {
  const rows = mergeDeltas(deltas).filter(
    (d) => !(d.committed.eq(ZERO) && d.projected.eq(ZERO) && (d.reserved ?? ZERO).eq(ZERO)),
  );
  if (rows.length === 0) return undefined;
  return sql`
    insert into fleet.period_totals (tenant_id, scope, key, period, period_start, period_end,
      committed_usd, projected_usd, reserved_usd)
    select ${tenantId}, scope, key, period, period_start, period_end, committed_usd, projected_usd,
      reserved_usd
    from unnest(
      ${pgArray(rows.map((d) => d.scope))}::text[], ${pgArray(rows.map((d) => d.key))}::text[],
      ${pgArray(rows.map((d) => d.period))}::text[], ${pgArray(rows.map((d) => utcText(d.start)))}::timestamptz[],
      ${pgArray(rows.map((d) => utcText(d.end)))}::timestamptz[],
      ${pgArray(rows.map((d) => d.committed.toString()))}::numeric[],
      ${pgArray(rows.map((d) => d.projected.toString()))}::numeric[],
      ${pgArray(rows.map((d) => (d.reserved ?? ZERO).toString()))}::numeric[]
    ) with ordinality as t(scope, key, period, period_start, period_end, committed_usd, projected_usd,
      reserved_usd, ord)
    ${onlyAfter ? sql`where ${onlyAfter}` : sql``}
    order by ord
    on conflict (tenant_id, scope, key, period, period_start) do update set
      committed_usd = fleet.period_totals.committed_usd + excluded.committed_usd,
      projected_usd = fleet.period_totals.projected_usd + excluded.projected_usd,
      -- Settling never takes a reservation below zero, even if a bug released twice.
      reserved_usd = greatest(fleet.period_totals.reserved_usd + excluded.reserved_usd, 0)`;
}

/** Adds amounts to running totals in the caller's transaction (see {@link totalsUpsert}). */
export async function applyTotals(
  trx: Kysely<FleetDatabase>,
  tenantId: string,
  deltas: TotalDelta[],
): Promise<void> {
  await totalsUpsert(tenantId, deltas)?.execute(trx);
}
