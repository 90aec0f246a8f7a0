import { sql, type Kysely } from 'kysely';
import type { Decimal } from 'decimal.js';
import { ZERO } from '@mosaic/budget-core';
import type { FleetDatabase, HoldRef } from '../db/schema.js';
import type { Guards } from './guards.js';
import type { TotalDelta } from '../register/totals.js';
import { instant, iso, numeric } from '../register/wire.js';

/** Thrown inside a reservation transaction when a limit no longer holds: roll back and decide again. */
export class ReservationRaceLost extends Error {
  constructor(readonly limit: string) {
    super(`a concurrent reservation took the room first (${limit})`);
    this.name = 'ReservationRaceLost';
  }
}

/** What one reservation takes. */
export interface ReserveInput {
  id: string;
  tenantId: string;
  taskId: string;
  account: string;
  provider: string;
  model: string;
  decision: string;
  usd: Decimal;
  windows: { window: string; percent: Decimal }[];
  ttlMs: number;
  request: unknown;
  guards: Guards;
}

/**
 * Takes a reservation inside the caller's transaction. Each limit is one conditional UPDATE —
 * `SET reserved = reserved + $amount WHERE committed + reserved + $amount <= $limit` — so the check
 * and the increment are a single atomic step under the row lock, whatever other replicas do. Rows
 * are touched in a fixed order (ceilings by scope then key, then counters, then windows), the same
 * order every settle uses, so concurrent transactions cannot deadlock. When a statement matches no
 * row, {@link ReservationRaceLost} is thrown and the caller rolls back.
 *
 * Each ceiling statement takes a sum, not a single estimate: a later group commit can reserve for
 * several waiting requests of one hot account in one statement.
 */
export async function reserveInTx(
  trx: Kysely<FleetDatabase>,
  input: ReserveInput,
): Promise<{ expiresAt: string }> {
  const holds: HoldRef[] = [];
  const ceilings = [...input.guards.ceilings].sort((a, b) => (a.scope + a.key < b.scope + b.key ? -1 : 1));
  for (const c of ceilings) {
    await trx
      .insertInto('fleet.period_totals')
      .values({
        tenant_id: input.tenantId,
        scope: c.scope,
        key: c.key,
        period: c.period,
        period_start: iso(c.start),
        period_end: iso(c.end),
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const amount = input.usd.toString();
    const updated = await trx
      .updateTable('fleet.period_totals')
      .set({ reserved_usd: sql`reserved_usd + ${amount}::numeric` })
      .where('tenant_id', '=', input.tenantId)
      .where('scope', '=', c.scope)
      .where('key', '=', c.key)
      .where('period', '=', c.period)
      .where('period_start', '=', iso(c.start))
      .where(
        sql<boolean>`committed_usd + reserved_usd + ${amount}::numeric <= ${c.limitUsd.toString()}::numeric`,
      )
      .returning(['committed_usd', 'reserved_usd'])
      .executeTakeFirst();
    if (!updated) throw new ReservationRaceLost(`${c.scope} ceiling ${c.key}`);
    holds.push({ scope: c.scope, key: c.key, period: c.period, periodStart: iso(c.start) });
  }
  for (const g of input.guards.concurrency) {
    await trx
      .insertInto('fleet.inflight')
      .values({ tenant_id: input.tenantId, scope: g.scope, key: g.key, count: 0 })
      .onConflict((oc) => oc.doNothing())
      .execute();
    let update = trx
      .updateTable('fleet.inflight')
      .set({ count: sql`count + 1` })
      .where('tenant_id', '=', input.tenantId)
      .where('scope', '=', g.scope)
      .where('key', '=', g.key);
    if (g.limit !== undefined) update = update.where(sql<boolean>`count + 1 <= ${g.limit}`);
    const done = await update.returning('count').executeTakeFirst();
    if (!done) throw new ReservationRaceLost(`${g.scope} concurrency ${g.key}`);
  }
  for (const w of [...input.windows].sort((a, b) => (a.window < b.window ? -1 : 1))) {
    // Window % is pacing, not a hard limit: it is held so the next decision sees it, never refused here.
    await trx
      .updateTable('fleet.window_state')
      .set({ reserved_percent: sql`reserved_percent + ${w.percent.toString()}::numeric` })
      .where('tenant_id', '=', input.tenantId)
      .where('account_id', '=', input.account)
      .where('window_name', '=', w.window)
      .execute();
  }
  const row = await trx
    .insertInto('fleet.reservations')
    .values({
      id: input.id,
      tenant_id: input.tenantId,
      task_id: input.taskId,
      account_id: input.account,
      provider: input.provider,
      model: input.model,
      usd: input.usd.toString(),
      windows: JSON.stringify(
        input.windows.map((w) => ({ window: w.window, percent: w.percent.toString() })),
      ),
      holds: JSON.stringify(holds),
      status: 'live',
      decision: input.decision,
      // Expiry runs on the database's clock so every replica agrees on it.
      expires_at: sql<Date>`now() + ${input.ttlMs} * interval '1 millisecond'`,
      request: JSON.stringify(input.request),
    })
    .returning('expires_at')
    .executeTakeFirstOrThrow();
  return { expiresAt: iso(instant(row.expires_at)) };
}

/** A reservation row as read back for settling. */
export interface HeldReservation {
  id: string;
  tenant_id: string;
  account_id: string;
  provider: string;
  usd: string;
  windows: { window: string; percent: string }[];
  holds: HoldRef[];
}

/** The running-total changes that free a reservation's USD (applied in the ordered totals pass). */
export function releaseDeltas(r: HeldReservation): TotalDelta[] {
  const usd = numeric(r.usd);
  return r.holds.map((h) => {
    const start = instant(h.periodStart);
    return {
      scope: h.scope as 'account' | 'provider',
      key: h.key,
      period: h.period as TotalDelta['period'],
      start,
      end: start,
      committed: ZERO,
      projected: ZERO,
      reserved: usd.neg(),
    };
  });
}

/** Frees a reservation's in-flight slots and window %, after its totals were released. */
export async function releaseCountersAndWindows(
  trx: Kysely<FleetDatabase>,
  r: HeldReservation,
): Promise<void> {
  const counters: [string, string][] = [
    ['account', r.account_id],
    ['provider', r.provider],
    ['tenant', '*'],
  ];
  for (const [scope, key] of counters) {
    await trx
      .updateTable('fleet.inflight')
      .set({ count: sql`greatest(count - 1, 0)` })
      .where('tenant_id', '=', r.tenant_id)
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
  }
  for (const w of [...r.windows].sort((a, b) => (a.window < b.window ? -1 : 1))) {
    await trx
      .updateTable('fleet.window_state')
      .set({ reserved_percent: sql`greatest(reserved_percent - ${w.percent}::numeric, 0)` })
      .where('tenant_id', '=', r.tenant_id)
      .where('account_id', '=', r.account_id)
      .where('window_name', '=', w.window)
      .execute();
  }
}
