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
 * Takes a reservation inside the caller's transaction. Each USD ceiling is one conditional UPDATE —
 * `SET reserved = reserved + $amount WHERE committed + reserved + $amount <= $limit` — so the check
 * and the increment are a single atomic step under the row lock, whatever other replicas do. A
 * concurrency limit locks its scope's row and counts live reservations while holding it. When a
 * limit no longer holds, {@link ReservationRaceLost} is thrown and the caller rolls back.
 *
 * Order matters twice. The reservation row and audit go first (they contend with nothing), the hot
 * ceiling rows last, so their locks are held for one round trip plus the commit. And every writer
 * takes contended rows in one global order — concurrency rows, then running totals (sorted), then
 * window rows — so concurrent transactions cannot deadlock.
 *
 * Each ceiling statement takes a sum, not a single estimate: a later group commit can reserve for
 * several waiting requests of one hot account in one statement.
 */
export async function reserveInTx(
  trx: Kysely<FleetDatabase>,
  input: ReserveInput,
  before?: (trx: Kysely<FleetDatabase>) => Promise<void>,
): Promise<{ expiresAt: string }> {
  const ceilings = [...input.guards.ceilings].sort((a, b) =>
    a.scope + '\u0000' + a.key < b.scope + '\u0000' + b.key ? -1 : 1,
  );
  const holds: HoldRef[] = ceilings.map((c) => ({
    scope: c.scope,
    key: c.key,
    period: c.period,
    periodStart: iso(c.start),
  }));
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
  if (before) await before(trx);

  for (const g of input.guards.concurrency) {
    if (g.limit === undefined) continue;
    await trx
      .insertInto('fleet.inflight')
      .values({ tenant_id: input.tenantId, scope: g.scope, key: g.key, count: 0 })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await trx
      .selectFrom('fleet.inflight')
      .select('count')
      .where('tenant_id', '=', input.tenantId)
      .where('scope', '=', g.scope)
      .where('key', '=', g.key)
      .forUpdate()
      .execute();
    // A new statement after the lock sees every reservation committed by the previous holder.
    let live = trx
      .selectFrom('fleet.reservations')
      .select(sql<string>`count(*)::text`.as('n'))
      .where('tenant_id', '=', input.tenantId)
      .where('status', '=', 'live');
    if (g.scope === 'account') live = live.where('account_id', '=', g.key);
    if (g.scope === 'provider') live = live.where('provider', '=', g.key);
    const n = Number((await live.executeTakeFirstOrThrow()).n);
    // The count includes this transaction's own reservation row.
    if (n > g.limit) throw new ReservationRaceLost(`${g.scope} concurrency ${g.key}`);
    await trx
      .updateTable('fleet.inflight')
      .set({ count: n })
      .where('tenant_id', '=', input.tenantId)
      .where('scope', '=', g.scope)
      .where('key', '=', g.key)
      .execute();
  }

  // The one statement that makes a ceiling exact: add the amount only where it still fits.
  const reserveUnder = (c: (typeof ceilings)[number], amount: string) =>
    trx
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
      .returning('reserved_usd')
      .executeTakeFirst();

  for (const c of ceilings) {
    const amount = input.usd.toString();
    const updated = await reserveUnder(c, amount);
    if (updated) continue;
    // No row yet for this period (its first reservation or spend): create it, then try once more.
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
    const retried = await reserveUnder(c, amount);
    if (!retried) throw new ReservationRaceLost(`${c.scope} ceiling ${c.key}`);
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

/**
 * Frees a reservation's window %, after its totals were released. In-flight counts need no change:
 * they are counted from live reservations, and the caller marks this one settled.
 */
export async function releaseWindows(trx: Kysely<FleetDatabase>, r: HeldReservation): Promise<void> {
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
