import { hash as digest } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Decimal } from 'decimal.js';
import { ZERO, type Account, type SpendRecord } from '@mosaic/budget-core';
import type { FleetDatabase } from '../db/schema.js';
import type { FleetDb } from '../db/database.js';
import { BudgetApiError, type ProblemIssue } from '../errors.js';
import { listAccounts } from './accounts.js';
import { periodAt } from './periods.js';
import { pgArray, type ColumnValues } from './pg-array.js';
import { applyTotals, totalKeysFor, totalsUpsert, type TotalDelta } from './totals.js';
import { instant } from './wire.js';

/** Most records one `POST /v1/spend` may carry. */
export const MAX_SPEND_BATCH = 10_000;

// Rows per INSERT: the statement takes one array per column, so the chunk only bounds the size of one
// round trip's parameters; a whole 10,000-record batch fits in two.
const INSERT_CHUNK = 5_000;

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
    r.occurredAt.toMillis(),
  ];
  return digest('sha256', JSON.stringify(canonical), 'hex');
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

// Accounts change rarely, and every change moves the tenant's configuration version in the same
// transaction (bumpConfigVersion), so a batch reads that one indexed row instead of reading and
// parsing every account and window again; a moved version reloads, so nothing stale is ever used.
// Keyed by database handle, then tenant: bounded by the tenants a replica serves.
const accountCache = new WeakMap<FleetDb, Map<string, { version: number; accounts: Map<string, Account> }>>();

// The unique key a ledger row's idempotency key is held by; a plain insert of a held key fails on it.
const KEY_CONSTRAINT = 'spend_ledger_tenant_id_idempotency_key_key';

/**
 * The tenant's configuration version and whether the batch's first or last key is held already, in one
 * round trip: a batch none of whose ends is held is almost always wholly fresh (batches are written
 * all-or-nothing, so a replay or a resumed import repeats whole batches), and goes the cheaper way.
 */
async function versionAndProbe(
  db: FleetDb,
  tenantId: string,
  records: SpendRecord[],
): Promise<{ version: number; endsHeld: boolean }> {
  const ends = [records[0]?.idempotencyKey ?? '', records[records.length - 1]?.idempotencyKey ?? ''];
  const result = await sql<{ version: string | number | null; held: boolean }>`
    select (select config_version from fleet.tenants where id = ${tenantId}) as version,
      exists(select 1 from fleet.spend_ledger
        where tenant_id = ${tenantId} and idempotency_key in (${ends[0]}, ${ends[1]})) as held`.execute(db);
  const row = result.rows[0];
  // A tenant without configuration has version 0, as readConfigVersion answers.
  return { version: row?.version == null ? 0 : Number(row.version), endsHeld: row?.held ?? false };
}

async function accountsOf(db: FleetDb, tenantId: string, version: number): Promise<Map<string, Account>> {
  let perTenant = accountCache.get(db);
  if (!perTenant) {
    perTenant = new Map();
    accountCache.set(db, perTenant);
  }
  const held = perTenant.get(tenantId);
  if (held && held.version === version) return held.accounts;
  // Read after the version: a change committed in between is cached under the older version and
  // reloaded by the next batch, never the other way round.
  const accounts = new Map((await listAccounts(db, tenantId)).map((a) => [a.id, a]));
  perTenant.set(tenantId, { version, accounts });
  return accounts;
}

/** Whether an error is a plain insert meeting a key the ledger holds already. */
function isHeldKey(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && (e.constraint === undefined || e.constraint === KEY_CONSTRAINT);
}

/**
 * The batch's records by key with their hashes; the keys repeated with the same content (duplicates)
 * and those repeated with other content (refused: within one batch a key may repeat only as itself).
 */
function distinctKeys(records: SpendRecord[]): {
  byKey: Map<string, { record: SpendRecord; hash: string }>;
  duplicates: string[];
  keyIssues: ProblemIssue[];
} {
  const byKey = new Map<string, { record: SpendRecord; hash: string }>();
  const duplicates: string[] = [];
  const keyIssues: ProblemIssue[] = [];
  for (const [i, r] of records.entries()) {
    const hash = contentHash(r);
    const held = byKey.get(r.idempotencyKey);
    if (held) {
      if (held.hash !== hash) {
        keyIssues.push({
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
  return { byKey, duplicates, keyIssues };
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
  const probing = versionAndProbe(db, tenantId, records);
  // Its failure is met by the await below; this only keeps it from counting as unhandled meanwhile.
  probing.catch(() => undefined);
  // The records are hashed while the probe travels: a macrotask boundary lets the driver write the
  // statement to the socket first, then the hashing (which needs no database) fills the round trip.
  await nextMacrotask();
  const { byKey, duplicates, keyIssues } = distinctKeys(records);
  const { version, endsHeld } = await probing;
  const accounts = await accountsOf(db, tenantId, version);
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
  if (keyIssues.length > 0) fail(keyIssues, 'BUDGET_ERR_IDEMPOTENCY_CONFLICT');

  const rows = [...byKey.values()];
  if (!endsHeld) {
    // A fresh batch is written by a plain INSERT, which costs PostgreSQL a fifth less than one with
    // ON CONFLICT (no speculative insertion per row) and answers nothing. Should a key be held after
    // all (a batch overlapping an earlier one, or a concurrent writer), the insert fails on the unique
    // key, everything of the batch rolls back, and the batch is written again the general way below.
    try {
      const written = await writeFreshBatch(db, tenantId, rows, accounts, extras);
      return { inserted: written.length, duplicates, written };
    } catch (error) {
      if (!isHeldKey(error)) throw error;
    }
  }
  return db.transaction().execute(async (trx) => {
    const result = await insertLedgerRows(trx, tenantId, rows, accounts, extras);
    return {
      inserted: result.inserted,
      duplicates: [...duplicates, ...result.duplicates],
      written: result.written,
    };
  });
}

interface HeldKey {
  idempotency_key: string;
  /** The hash the key is held with; null when a concurrent batch committed it after this statement began. */
  content_hash: string | null;
}

/**
 * The rows as a relation `input` of one array per column (`unnest … with ordinality`), so PostgreSQL
 * parses and plans a 17-parameter statement however large the batch, instead of one with 20
 * parameters per row.
 */
function inputRows(rows: { record: SpendRecord; hash: string }[]): RawBuilder<unknown> {
  const n = rows.length;
  const col = (pick: (r: SpendRecord) => string | number | null): string | ColumnValues => {
    const out = new Array<string | number | null>(n);
    for (let i = 0; i < n; i++) out[i] = pick((rows[i] as { record: SpendRecord }).record);
    return pgArray(out);
  };
  const hashes = pgArray(rows.map((r) => r.hash));
  return sql`unnest(
        ${col((r) => r.idempotencyKey)}::text[], ${hashes}::text[], ${col((r) => r.host)}::text[],
        ${col((r) => r.agent)}::text[], ${col((r) => r.mission ?? null)}::text[], ${col((r) => r.task)}::text[],
        ${col((r) => r.taskClass)}::text[], ${col((r) => r.provider)}::text[], ${col((r) => r.account)}::text[],
        ${col((r) => r.model)}::text[], ${col((r) => r.inputTokens)}::bigint[],
        ${col((r) => r.outputTokens)}::bigint[], ${col((r) => r.cacheReadTokens)}::bigint[],
        ${col((r) => r.cacheWriteTokens)}::bigint[], ${col((r) => r.usd.toString())}::numeric[],
        ${col((r) => r.kind)}::text[],
        ${col((r) => new Date(r.occurredAt.toMillis()).toISOString())}::timestamptz[]
      ) with ordinality as t(idempotency_key, content_hash, host, agent, mission, task, task_class,
        provider, account_id, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        usd, kind, occurred_at, ord)`;
}

/** The ledger's columns as inputRows names them, in insertion order, for `insert … select`. */
function ledgerInsert(tenantId: string, extras: LedgerExtras): RawBuilder<unknown> {
  return sql`insert into fleet.spend_ledger (tenant_id, idempotency_key, content_hash, host, agent,
        mission, task, task_class, provider, account_id, model, input_tokens, output_tokens,
        cache_read_tokens, cache_write_tokens, usd, kind, occurred_at, reservation_id, late)
      select ${tenantId}, idempotency_key, content_hash, host, agent, mission, task, task_class,
        provider, account_id, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        usd, kind, occurred_at, ${extras.reservationId ?? null}::text, ${extras.late ?? false}::boolean`;
}

/** Inserts rows none of whose keys is expected to be held; a held one fails the statement. */
async function insertFreshRows(
  trx: Kysely<FleetDatabase>,
  tenantId: string,
  rows: { record: SpendRecord; hash: string }[],
  extras: LedgerExtras,
): Promise<void> {
  await sql`${ledgerInsert(tenantId, extras)} from ${inputRows(rows)} order by ord`.execute(trx);
}

/**
 * Writes a batch none of whose keys is expected to be held: its last chunk of ledger rows and the
 * running totals go in ONE statement, which is a transaction of its own when nothing else has to
 * follow it (no windows to update, a batch of one chunk), so the commonest batch costs one round trip
 * instead of four (begin, ledger, totals, commit). A held key fails the statement, or the
 * transaction, as a whole.
 */
async function writeFreshBatch(
  db: FleetDb,
  tenantId: string,
  rows: { record: SpendRecord; hash: string }[],
  accounts: Map<string, Account>,
  extras: LedgerExtras,
): Promise<SpendRecord[]> {
  const written = rows.map((r) => r.record);
  const deltas: TotalDelta[] = [...(extras.totals ?? []), ...spendDeltas(written, accounts)];
  const lastChunk = rows.length === 0 ? 0 : Math.floor((rows.length - 1) / INSERT_CHUNK) * INSERT_CHUNK;
  // The ledger rows go in before any running-total row is locked, as in every other writer: the totals
  // wait on a one-time condition that reads the inserted rows, so PostgreSQL completes the insert
  // first. Were a total locked first, a concurrent batch holding one of these keys uncommitted and
  // waiting for that total would deadlock with this one.
  const totals = totalsUpsert(tenantId, deltas, sql`(select count(*) from ins) is not null`);
  const statement = sql`
    with ins as (
      ${ledgerInsert(tenantId, extras)} from ${inputRows(rows.slice(lastChunk))} order by ord
      returning 1
    )${totals ? sql`, tot as (${totals})` : sql``}
    select count(*) from ins`;
  const actual = written.filter((r) => r.kind === 'actual');
  const windowed = actual.some((r) => (accounts.get(r.account)?.windows.length ?? 0) > 0);
  if (lastChunk === 0 && !windowed && !extras.afterTotals) {
    await statement.execute(db);
    return written;
  }
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < lastChunk; i += INSERT_CHUNK) {
      await insertFreshRows(trx, tenantId, rows.slice(i, i + INSERT_CHUNK), extras);
    }
    await statement.execute(trx);
    if (extras.afterTotals) await extras.afterTotals(trx);
    await addUnsignaledSpend(trx, tenantId, actual, accounts);
  });
  return written;
}

/**
 * Writes rows in ONE statement that skips keys held already and answers, for each key that did not
 * insert (and only those: a fresh batch returns no rows at all), the hash it is held with, so a
 * replayed batch costs one round trip too. The held rows are read through a correlated subquery so
 * that each is one index lookup on (tenant_id, idempotency_key) and the ledger is never scanned,
 * whatever its size.
 */
async function writeLedgerRows(
  trx: Kysely<FleetDatabase>,
  tenantId: string,
  rows: { record: SpendRecord; hash: string }[],
  extras: LedgerExtras,
): Promise<HeldKey[]> {
  const result = await sql<HeldKey>`
    with input as (select * from ${inputRows(rows)}),
    ins as (
      ${ledgerInsert(tenantId, extras)}
      from input order by ord
      on conflict (tenant_id, idempotency_key) do nothing
      returning idempotency_key
    )
    select i.idempotency_key,
      (select l.content_hash from fleet.spend_ledger l
        where l.tenant_id = ${tenantId} and l.idempotency_key = i.idempotency_key) as content_hash
    from input i left join ins on ins.idempotency_key = i.idempotency_key
    where ins.idempotency_key is null
    order by i.ord`.execute(trx);
  return result.rows;
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
  const heldKeys = new Set<string>();
  const heldHash = new Map<string, string>();
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    for (const o of await writeLedgerRows(trx, tenantId, rows.slice(i, i + INSERT_CHUNK), extras)) {
      heldKeys.add(o.idempotency_key);
      if (o.content_hash !== null) heldHash.set(o.idempotency_key, o.content_hash);
    }
  }

  // Keys that did not insert are held already: earlier, or by a concurrent batch that committed while
  // this statement waited on its row. The statement's snapshot predates such a commit, so its hash is
  // read again here, by a statement that sees it.
  const held = rows.filter((r) => heldKeys.has(r.record.idempotencyKey));
  const raced = held.map((r) => r.record.idempotencyKey).filter((k) => !heldHash.has(k));
  for (let i = 0; i < raced.length; i += INSERT_CHUNK) {
    const found = await trx
      .selectFrom('fleet.spend_ledger')
      .select(['idempotency_key', 'content_hash'])
      .where('tenant_id', '=', tenantId)
      .where('idempotency_key', 'in', raced.slice(i, i + INSERT_CHUNK))
      .execute();
    for (const f of found) heldHash.set(f.idempotency_key, f.content_hash);
  }
  const duplicates: string[] = [];
  const conflicts: ProblemIssue[] = [];
  for (const r of held) {
    if (heldHash.get(r.record.idempotencyKey) === r.hash) duplicates.push(r.record.idempotencyKey);
    else
      conflicts.push({
        path: ['idempotencyKey'],
        message: `key "${r.record.idempotencyKey}" is already held with different content`,
      });
  }
  if (conflicts.length > 0) fail(conflicts, 'BUDGET_ERR_IDEMPOTENCY_CONFLICT');

  const fresh = rows.filter((r) => !heldKeys.has(r.record.idempotencyKey)).map((r) => r.record);
  await afterLedgerRows(trx, tenantId, fresh, accounts, extras);
  return { inserted: fresh.length, duplicates, written: fresh };
}

/** What follows the ledger rows in their transaction: the running totals, then the windows. */
async function afterLedgerRows(
  trx: Kysely<FleetDatabase>,
  tenantId: string,
  fresh: SpendRecord[],
  accounts: Map<string, Account>,
  extras: LedgerExtras,
): Promise<void> {
  const deltas: TotalDelta[] = [...(extras.totals ?? []), ...spendDeltas(fresh, accounts)];
  await applyTotals(trx, tenantId, deltas);
  if (extras.afterTotals) await extras.afterTotals(trx);
  await addUnsignaledSpend(
    trx,
    tenantId,
    fresh.filter((r) => r.kind === 'actual'),
    accounts,
  );
}

/** Records of one account, provider, zone day and UTC day, and their amounts summed. */
interface SpendGroup {
  record: SpendRecord;
  timezone: string;
  committed: Decimal;
  projected: Decimal;
}

/**
 * The running-total changes of `records`. Records of one account whose instants fall on the same day
 * in the account's zone and on the same UTC day land on the same six rows (a day lies inside one week
 * and one month of its zone), so their amounts are summed first and the rows are computed once per
 * such group rather than once per record: a batch of a thousand records spread over a few days costs a
 * few dozen period look-ups instead of six thousand.
 */
export function spendDeltas(records: SpendRecord[], accounts: Map<string, Account>): TotalDelta[] {
  const groups = new Map<string, SpendGroup>();
  // The span (its zone's day within a UTC day) each account's previous record fell in: an account's
  // records mostly arrive in time order, so most find their group here without a period look-up or a
  // key to build.
  const lastSpan = new Map<string, { startMs: number; endMs: number; group: SpendGroup }>();
  for (const r of records) {
    const ms = r.occurredAt.toMillis();
    const last = lastSpan.get(r.account);
    let g: SpendGroup;
    if (last && ms >= last.startMs && ms < last.endMs && last.group.record.provider === r.provider) {
      g = last.group;
    } else {
      const timezone = accounts.get(r.account)?.timezone ?? 'UTC';
      const day = periodAt('P1D', timezone, r.occurredAt);
      const utcDay = periodAt('P1D', 'UTC', r.occurredAt);
      const k = `${r.account}\u0000${r.provider}\u0000${timezone}\u0000${day.start.toMillis()}\u0000${utcDay.start.toMillis()}`;
      const held = groups.get(k);
      g = held ?? { record: r, timezone, committed: ZERO, projected: ZERO };
      if (!held) groups.set(k, g);
      lastSpan.set(r.account, {
        startMs: Math.max(day.start.toMillis(), utcDay.start.toMillis()),
        endMs: Math.min(day.end.toMillis(), utcDay.end.toMillis()),
        group: g,
      });
    }
    if (r.kind === 'actual') g.committed = g.committed.plus(r.usd);
    else g.projected = g.projected.plus(r.usd);
  }
  const deltas: TotalDelta[] = [];
  for (const { record: r, timezone, committed, projected } of groups.values()) {
    for (const key of totalKeysFor(r.account, r.provider, timezone, r.occurredAt)) {
      deltas.push({ ...key, committed, projected });
    }
  }
  return deltas;
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
  // Only a window the account still defines takes unsignaled spend (see below), so accounts without
  // windows — every api account — need neither the read nor its row locks.
  const accountIds = [...new Set(records.map((r) => r.account))]
    .filter((id) => (accounts.get(id)?.windows.length ?? 0) > 0)
    .sort();
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
