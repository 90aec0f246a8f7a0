import { sql, type Kysely } from 'kysely';
import type { Decimal } from 'decimal.js';
import { ZERO } from '@mosaic/budget-core';
import type { FleetDatabase, HoldRef } from '../db/schema.js';
import type { Guards } from './guards.js';
import type { TotalDelta } from '../register/totals.js';
import { instant, iso, numeric } from '../register/wire.js';

/** Thrown inside a reservation transaction when a limit no longer holds: roll back and decide again. */
export class ReservationRaceLost extends Error {
  constructor(readonly detail: string) {
    super(
      detail.startsWith('a concurrent') ? detail : `a concurrent reservation took the room first (${detail})`,
    );
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

/** The audit row written with a reservation, in the same statement. */
export interface ReserveAudit {
  decision: string;
  account?: string;
  model?: string;
  reason: string;
  trace: unknown;
  queueId?: string;
}

/**
 * Takes a reservation in one statement (`fleet.gate_reserve`, migration 0003): the reservation row,
 * its audit row, the concurrency limits, the exact USD ceilings and the held window %, all or nothing.
 * On `db` it is one round trip committed on its own; inside a transaction it joins it. When a limit no
 * longer holds, {@link ReservationRaceLost} is thrown and nothing was written.
 *
 * Each ceiling check takes a sum, not a single estimate: a later group commit can reserve for several
 * waiting requests of one hot account in one statement.
 */
export async function reserve(
  db: Kysely<FleetDatabase>,
  input: ReserveInput,
  audit?: ReserveAudit,
): Promise<{ expiresAt: string }> {
  // One global lock order for every writer (see the function): ceilings sorted, windows sorted.
  const ceilings = [...input.guards.ceilings].sort((a, b) =>
    a.scope + '\u0000' + a.key < b.scope + '\u0000' + b.key ? -1 : 1,
  );
  const holds: HoldRef[] = ceilings.map((c) => ({
    scope: c.scope,
    key: c.key,
    period: c.period,
    periodStart: iso(c.start),
  }));
  const windows = [...input.windows]
    .sort((a, b) => (a.window < b.window ? -1 : 1))
    .map((w) => ({ window: w.window, percent: w.percent.toString() }));
  const p = {
    id: input.id,
    tenantId: input.tenantId,
    taskId: input.taskId,
    account: input.account,
    provider: input.provider,
    model: input.model,
    decision: input.decision,
    usd: input.usd.toString(),
    ttlMs: input.ttlMs,
    windows,
    holds,
    request: input.request,
    ceilings: ceilings.map((c) => ({
      scope: c.scope,
      key: c.key,
      period: c.period,
      start: iso(c.start),
      end: iso(c.end),
      limit: c.limitUsd.toString(),
    })),
    concurrency: input.guards.concurrency
      .filter((g) => g.limit !== undefined)
      .map((g) => ({ scope: g.scope, key: g.key, limit: g.limit })),
    ...(audit ? { audit } : {}),
  };
  try {
    const result = await sql<{ expires_at: Date | string }>`
      select fleet.gate_reserve(${JSON.stringify(p)}::jsonb) as expires_at
    `.execute(db);
    const row = result.rows[0];
    if (!row) throw new Error('fleet.gate_reserve returned no row');
    return { expiresAt: iso(instant(row.expires_at)) };
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === RACE_LOST) {
      throw new ReservationRaceLost(String((error as Error).message));
    }
    throw error;
  }
}

// The SQLSTATE fleet.gate_reserve raises when a limit no longer holds.
const RACE_LOST = 'MB001';

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
