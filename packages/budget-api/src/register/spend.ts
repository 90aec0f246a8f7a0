import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Decimal } from 'decimal.js';
import { ZERO, type Account, type SpendRecord } from '@mosaic/budget-core';
import type { FleetDatabase } from '../db/schema.js';
import type { FleetDb } from '../db/database.js';
import { BudgetApiError, type ProblemIssue } from '../errors.js';
import { listAccounts } from './accounts.js';
import { applyTotals, totalKeysFor, type TotalDelta } from './totals.js';
import { iso, instant } from './wire.js';

/** Most records one `POST /v1/spend` may carry. */
export const MAX_SPEND_BATCH = 10_000;

// Rows per INSERT: 21 parameters each stays far below PostgreSQL's 65,535 bind parameters.
const INSERT_CHUNK = 1_000;

/** What a spend batch did: how many rows were new and which keys were already held with the same content. */
export interface SpendResult {
  inserted: number;
  duplicates: string[];
  /** The records this call wrote (for the metrics, counted once the transaction has committed). */
  written: SpendRecord[];
}

/** Extra facts a ledger row can carry beyond the record (set by the gate's commit). */
export interface LedgerExtras {
  reservationId?: string;
  late?: boolean;
  /** Other running-total changes to apply in the same ordered pass (a settled reservation's release). */
  totals?: TotalDelta[];
  /**
   * Runs after the totals and before the window rows, keeping the lock order every writer uses
   * (totals, in-flight counters, windows) so concurrent transactions cannot deadlock.
   */
  afterTotals?: (trx: Kysely<FleetDatabase>) => Promise<void>;
}

/**
 * A fingerprint of what a record says, so a replay can be told apart from a different record under a
 * reused key: decimals and instants are normalised first ("1.50" and "1.5" are the same spend).
 */
export function contentHash(r: SpendRecord): string {
  const canonical = [
    r.host,
    r.agent,
    r.mission ?? '',
    r.task,
    r.taskClass,
    r.provider,
    r.account,
    r.model,
    r.inputTokens,
    r.outputTokens,
    r.cacheReadTokens,
    r.cacheWriteTokens,
    r.usd.toString(),
    r.kind,
    r.occurredAt.toUTC().toMillis(),
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

function fail(
  issues: ProblemIssue[],
  code: 'BUDGET_ERR_UNKNOWN_ACCOUNT' | 'BUDGET_ERR_IDEMPOTENCY_CONFLICT',
): never {
  const first = issues[0]?.message ?? '';
  throw new BudgetApiError(
    code,
    `${issues.length} record(s) rejected, nothing of the batch was written: ${first}`,
    { issues: issues.slice(0, 100) },
  );
}

/**
 * Appends spend records to the ledger and their amounts to the running totals, all in one
 * transaction: the whole batch or nothing. A key already held with the same content is a duplicate
 * (reported, not counted again); with different content the batch is refused.
 */
export async function ingestSpend(
  db: FleetDb,
  tenantId: string,
  records: SpendRecord[],
  extras: LedgerExtras = {},
): Promise<SpendResult> {
  const accounts = new Map((await listAccounts(db, tenantId)).map((a) => [a.id, a]));
  const issues: ProblemIssue[] = [];
  for (const [i, r] of records.entries()) {
    if (r.tenantId !== undefined && r.tenantId !== tenantId) {
      issues.push({
        path: ['records', i, 'tenantId'],
        message: `tenantId "${r.tenantId}" is not the token's tenant`,
      });
      continue;
    }
    const account = accounts.get(r.account);
    if (!account) {
      issues.push({
        path: ['records', i, 'account'],
        message: `unknown account "${r.account}"; create it with PUT /v1/accounts/${r.account}`,
      });
    } else if (account.provider !== r.provider) {
      issues.push({
        path: ['records', i, 'provider'],
        message: `account "${r.account}" belongs to provider "${account.provider}", not "${r.provider}"`,
      });
    }
  }
  if (issues.length > 0) fail(issues, 'BUDGET_ERR_UNKNOWN_ACCOUNT');

  // Within one batch a key may repeat only with the same content.
  const byKey = new Map<string, { record: SpendRecord; hash: string }>();
  const duplicates: string[] = [];
  for (const [i, r] of records.entries()) {
    const hash = contentHash(r);
    const held = byKey.get(r.idempotencyKey);
    if (held) {
      if (held.hash !== hash) {
        issues.push({
          path: ['records', i, 'idempotencyKey'],
          message: `key "${r.idempotencyKey}" appears twice with different content`,
        });
      } else {
        duplicates.push(r.idempotencyKey);
      }
      continue;
    }
    byKey.set(r.idempotencyKey, { record: r, hash });
  }
  if (issues.length > 0) fail(issues, 'BUDGET_ERR_IDEMPOTENCY_CONFLICT');

  return db.transaction().execute(async (trx) => {
    const result = await insertLedgerRows(trx, tenantId, [...byKey.values()], accounts, extras);
    return {
      inserted: result.inserted,
      duplicates: [...duplicates, ...result.duplicates],
      written: result.written,
    };
  });
}

/**
 * Inserts ledger rows and updates totals in the caller's transaction; throws (rolling the caller
 * back) when a key is already held with different content.
 */
export async function insertLedgerRows(
  trx: Kysely<FleetDatabase>,
  tenantId: string,
  rows: { record: SpendRecord; hash: string }[],
  accounts: Map<string, Account>,
  extras: LedgerExtras = {},
): Promise<SpendResult> {
  const insertedKeys = new Set<string>();
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    const inserted = await trx
      .insertInto('fleet.spend_ledger')
      .values(
        chunk.map(({ record: r, hash }) => ({
          tenant_id: tenantId,
          idempotency_key: r.idempotencyKey,
          content_hash: hash,
          host: r.host,
          agent: r.agent,
          mission: r.mission ?? null,
          task: r.task,
          task_class: r.taskClass,
          provider: r.provider,
          account_id: r.account,
          model: r.model,
          input_tokens: r.inputTokens,
          output_tokens: r.outputTokens,
          cache_read_tokens: r.cacheReadTokens,
          cache_write_tokens: r.cacheWriteTokens,
          usd: r.usd.toString(),
          kind: r.kind,
          occurred_at: iso(r.occurredAt),
          reservation_id: extras.reservationId ?? null,
          late: extras.late ?? false,
        })),
      )
      .onConflict((oc) => oc.columns(['tenant_id', 'idempotency_key']).doNothing())
      .returning('idempotency_key')
      .execute();
    for (const row of inserted) insertedKeys.add(row.idempotency_key);
  }

  // Keys that did not insert are held already (earlier, or by a concurrent batch that committed first).
  const held = rows.filter((r) => !insertedKeys.has(r.record.idempotencyKey));
  const duplicates: string[] = [];
  if (held.length > 0) {
    const existing = new Map<string, string>();
    for (let i = 0; i < held.length; i += INSERT_CHUNK) {
      const keys = held.slice(i, i + INSERT_CHUNK).map((r) => r.record.idempotencyKey);
      const found = await trx
        .selectFrom('fleet.spend_ledger')
        .select(['idempotency_key', 'content_hash'])
        .where('tenant_id', '=', tenantId)
        .where('idempotency_key', 'in', keys)
        .execute();
      for (const f of found) existing.set(f.idempotency_key, f.content_hash);
    }
    const conflicts: ProblemIssue[] = [];
    for (const r of held) {
      if (existing.get(r.record.idempotencyKey) === r.hash) duplicates.push(r.record.idempotencyKey);
      else
        conflicts.push({
          path: ['idempotencyKey'],
          message: `key "${r.record.idempotencyKey}" is already held with different content`,
        });
    }
    if (conflicts.length > 0) fail(conflicts, 'BUDGET_ERR_IDEMPOTENCY_CONFLICT');
  }

  const fresh = rows.filter((r) => insertedKeys.has(r.record.idempotencyKey)).map((r) => r.record);
  const deltas: TotalDelta[] = [...(extras.totals ?? [])];
  for (const r of fresh) {
    const account = accounts.get(r.account);
    const timezone = account?.timezone ?? 'UTC';
    const actual = r.kind === 'actual';
    for (const key of totalKeysFor(r.account, r.provider, timezone, r.occurredAt)) {
      deltas.push({ ...key, committed: actual ? r.usd : ZERO, projected: actual ? ZERO : r.usd });
    }
  }
  await applyTotals(trx, tenantId, deltas);
  if (extras.afterTotals) await extras.afterTotals(trx);
  await addUnsignaledSpend(
    trx,
    tenantId,
    fresh.filter((r) => r.kind === 'actual'),
    accounts,
  );
  return { inserted: fresh.length, duplicates, written: fresh };
}

/**
 * Adds actual spend that happened after a window's newest signal to that window's `unsignaled_usd`,
 * so the gate sees usage the provider has not reported yet without reading the ledger.
 */
async function addUnsignaledSpend(
  trx: Kysely<FleetDatabase>,
  tenantId: string,
  records: SpendRecord[],
  accounts: Map<string, Account>,
): Promise<void> {
  const accountIds = [...new Set(records.map((r) => r.account))].sort();
  if (accountIds.length === 0) return;
  const states = await trx
    .selectFrom('fleet.window_state')
    .select(['account_id', 'window_name', 'observed_at'])
    .where('tenant_id', '=', tenantId)
    .where('account_id', 'in', accountIds)
    .orderBy('account_id')
    .orderBy('window_name')
    .forUpdate()
    .execute();
  for (const s of states) {
    const spec = accounts.get(s.account_id)?.windows.find((w) => w.name === s.window_name);
    if (!spec) continue;
    const since = instant(s.observed_at).toMillis();
    let sum: Decimal = ZERO;
    for (const r of records) {
      if (r.account !== s.account_id) continue;
      if (spec.models && !spec.models.includes(r.model)) continue;
      if (r.occurredAt.toMillis() < since) continue;
      sum = sum.plus(r.usd);
    }
    if (sum.eq(ZERO)) continue;
    await trx
      .updateTable('fleet.window_state')
      .set({ unsignaled_usd: sql`unsignaled_usd + ${sum.toString()}::numeric` })
      .where('tenant_id', '=', tenantId)
      .where('account_id', '=', s.account_id)
      .where('window_name', '=', s.window_name)
      .execute();
  }
}
