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

/** What the gate's write also re-checks, beyond the limits (see migration 0003). */
export interface ReserveChecks {
  /** The configuration version the decision was made with (`MB002` when it moved). */
  version?: number;
  /** Refuse when the task already holds a reservation or a queue entry (`MB003`). */
  checkTask?: boolean;
  /** The caller's token, re-read in the same statement (`MB401` when revoked). */
  tokenId?: string;
}

/** One entry of `fleet.gate_reserve`'s JSON argument (amounts and instants as strings). */
export interface ReservePayload {
  id: string;
  tenantId: string;
  taskId: string;
  account: string;
  provider: string;
  model: string;
  decision: string;
  usd: string;
  ttlMs: number;
  windows: { window: string; percent: string }[];
  holds: HoldRef[];
  request: unknown;
  ceilings: { scope: string; key: string; period: string; start: string; end: string; limit: string }[];
  concurrency: { scope: string; key: string; limit: number | undefined }[];
  audit?: ReserveAudit;
  version?: number;
  checkTask?: boolean;
  tokenId?: string;
}

/** Builds one reservation's argument for `fleet.gate_reserve` (amounts as decimal strings). */
export function reservePayload(
  input: ReserveInput,
  audit?: ReserveAudit,
  checks: ReserveChecks = {},
): ReservePayload {
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
  return {
    id: input.id,
    tenantId: input.tenantId,
    taskId: input.taskId,
    account: input.account,
    provider: input.provider,
    model: input.model,
    decision: input.decision,
    usd: input.usd.toString(),
    ttlMs: input.ttlMs,
    windows: [...input.windows]
      .sort((a, b) => (a.window < b.window ? -1 : 1))
      .map((w) => ({ window: w.window, percent: w.percent.toString() })),
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
    ...(checks.version !== undefined ? { version: checks.version } : {}),
    ...(checks.checkTask ? { checkTask: true } : {}),
    ...(checks.tokenId !== undefined ? { tokenId: checks.tokenId } : {}),
  };
}

/** What `fleet.gate_reserve` answers for one entry. */
export type ReserveOutcome = { ok: true; expiresAt: string } | { ok: false; code: string; message: string };

/** The configuration changed since the decision (`MB002`): reload it and decide again. */
export class StaleConfiguration extends Error {
  constructor() {
    super('the configuration changed since the decision');
    this.name = 'StaleConfiguration';
  }
}

/** The task already holds a reservation or waits in the queue (`MB003`, or a racing retry's insert). */
export class TaskAlreadyHeld extends Error {
  constructor() {
    super('the task already holds a reservation or a queue entry');
    this.name = 'TaskAlreadyHeld';
  }
}

/** The caller's token was revoked since this replica verified it (`MB401`). */
export class TokenRevoked extends Error {
  constructor() {
    super('the token is unknown or revoked');
    this.name = 'TokenRevoked';
  }
}

/** The expiry of a reservation taken, or the error that says why it was not. */
export function settleOutcome(outcome: ReserveOutcome): { expiresAt: string } {
  if (outcome.ok) return { expiresAt: iso(instant(outcome.expiresAt)) };
  switch (outcome.code) {
    case 'MB001':
      throw new ReservationRaceLost(outcome.message);
    case 'MB002':
      throw new StaleConfiguration();
    case 'MB003':
    case '23505':
      throw new TaskAlreadyHeld();
    case 'MB401':
      throw new TokenRevoked();
    default:
      throw new Error(`fleet.gate_reserve answered ${outcome.code}: ${outcome.message}`);
  }
}

/** Calls `fleet.gate_reserve` with a batch; one round trip, one commit (or the caller's transaction). */
export async function reserveBatch(
  db: Kysely<FleetDatabase>,
  payloads: readonly ReservePayload[],
): Promise<ReserveOutcome[]> {
  const result = await sql<{ answers: ReserveOutcome[] }>`
    select fleet.gate_reserve(${JSON.stringify(payloads)}::jsonb) as answers
  `.execute(db);
  const answers = result.rows[0]?.answers;
  if (!answers || answers.length !== payloads.length) {
    throw new Error('fleet.gate_reserve answered a different number of entries than it was given');
  }
  return answers;
}

/**
 * Takes one reservation (`fleet.gate_reserve` with a batch of one): the reservation row, its audit
 * row, the concurrency limits, the exact USD ceilings and the held window %, all or nothing. On `db`
 * it is one round trip committed on its own; inside a transaction it joins it. When a limit no longer
 * holds, {@link ReservationRaceLost} is thrown and nothing was written.
 */
export async function reserve(
  db: Kysely<FleetDatabase>,
  input: ReserveInput,
  audit?: ReserveAudit,
  checks: ReserveChecks = {},
): Promise<{ expiresAt: string }> {
  const [outcome] = await reserveBatch(db, [reservePayload(input, audit, checks)]);
  if (!outcome) throw new Error('fleet.gate_reserve answered no entry');
  return settleOutcome(outcome);
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
