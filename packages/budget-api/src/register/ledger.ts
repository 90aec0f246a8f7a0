import { sql } from 'kysely';
import type { DateTime } from 'luxon';
import type { FleetDb } from '../db/database.js';
import type { SpendLedgerTable } from '../db/schema.js';
import type { Selectable } from 'kysely';
import { BudgetApiError } from '../errors.js';
import { count, iso, isoOf, numeric } from './wire.js';

/** Filters of `GET /v1/ledger`. */
export interface LedgerQuery {
  mission?: string;
  task?: string;
  account?: string;
  from?: DateTime;
  to?: DateTime;
  cursor?: string;
  limit: number;
}

/** A ledger row on the wire. */
export interface LedgerEntry {
  id: string;
  idempotencyKey: string;
  host: string;
  agent: string;
  mission?: string;
  task: string;
  taskClass: string;
  provider: string;
  account: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  usd: string;
  kind: string;
  occurredAt: string;
  recordedAt: string;
  reservationId?: string;
  late: boolean;
}

/** A ledger row as the wire carries it. */
export function ledgerEntry(r: Selectable<SpendLedgerTable>): LedgerEntry {
  return {
    id: String(r.id),
    idempotencyKey: r.idempotency_key,
    host: r.host,
    agent: r.agent,
    ...(r.mission !== null ? { mission: r.mission } : {}),
    task: r.task,
    taskClass: r.task_class,
    provider: r.provider,
    account: r.account_id,
    model: r.model,
    inputTokens: count(r.input_tokens),
    outputTokens: count(r.output_tokens),
    cacheReadTokens: count(r.cache_read_tokens),
    cacheWriteTokens: count(r.cache_write_tokens),
    usd: numeric(r.usd).toString(),
    kind: r.kind,
    occurredAt: isoOf(r.occurred_at),
    recordedAt: isoOf(r.recorded_at),
    ...(r.reservation_id !== null ? { reservationId: r.reservation_id } : {}),
    late: r.late,
  };
}

function encodeCursor(occurredAt: string, id: string): string {
  return Buffer.from(JSON.stringify([occurredAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { occurredAt: string; id: string } {
  try {
    const [occurredAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ];
    if (
      typeof occurredAt !== 'string' ||
      typeof id !== 'string' ||
      !/^\d{1,19}$/.test(id) ||
      Number.isNaN(Date.parse(occurredAt))
    ) {
      throw new Error('bad cursor');
    }
    return { occurredAt, id };
  } catch {
    throw new BudgetApiError('BUDGET_ERR_VALIDATION', 'the cursor is not one this service issued', {
      issues: [{ path: ['querystring', 'cursor'], message: 'invalid cursor' }],
    });
  }
}

/** One page of the ledger, newest first, with the cursor of the next page when there is one. */
export async function listLedger(
  db: FleetDb,
  tenantId: string,
  q: LedgerQuery,
): Promise<{ entries: LedgerEntry[]; nextCursor?: string }> {
  let query = db.selectFrom('fleet.spend_ledger').selectAll().where('tenant_id', '=', tenantId);
  if (q.mission !== undefined) query = query.where('mission', '=', q.mission);
  if (q.task !== undefined) query = query.where('task', '=', q.task);
  if (q.account !== undefined) query = query.where('account_id', '=', q.account);
  if (q.from) query = query.where('occurred_at', '>=', iso(q.from));
  if (q.to) query = query.where('occurred_at', '<', iso(q.to));
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    query = query.where(sql<boolean>`(occurred_at, id) < (${c.occurredAt}::timestamptz, ${c.id}::bigint)`);
  }
  const rows = await query
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit + 1)
    .execute();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    entries: page.map(ledgerEntry),
    ...(rows.length > q.limit && last
      ? { nextCursor: encodeCursor(isoOf(last.occurred_at), String(last.id)) }
      : {}),
  };
}
