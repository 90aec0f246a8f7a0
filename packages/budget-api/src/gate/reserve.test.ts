import { expect, it } from 'vitest';
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import type { FleetDatabase } from '../db/schema.js';
import { describeOnBackends } from '../test-support/backends.js';
import {
  assertOverBothPaths,
  BATCH_ACCOUNTS as ACCOUNTS,
  BATCH_PERIOD as PERIOD,
  batchTenant,
  inRolledBackBatch,
  insertBatchTotals,
  rarely,
  usdText as usd,
} from '../test-support/batch-functions.js';

// Migration 0009 writes a clear batch with one statement per table (fleet.gate_reserve_all) and any
// other batch entry by entry (fleet.gate_reserve_each). These tests hold the two to the same answers
// and the same rows on generated batches near and far from their limits, so the fast path is an
// optimisation only, never a different rule.

const TASKS = Array.from({ length: 16 }, (_, i) => `task-${i}`);
const VERSION = 5;

/** One generated case: the state before the batch, and the batch. */
interface Case {
  /** Committed USD (cents) per ceiling row: the three accounts, then the provider. */
  committedCents: number[];
  /** Limits (cents) per ceiling row, as the decision saw them. */
  limitCents: number[];
  /** Tasks already holding a live reservation, and one waiting in the queue. */
  held: string[];
  queued: string | undefined;
  entries: {
    /** Set: the entry reuses this id (a retry); unset: the entry's own. */
    id: number | undefined;
    task: string;
    account: number;
    cents: number;
    checkTask: boolean;
    version: number | undefined;
    token: 'ok' | 'revoked' | undefined;
    window: boolean;
    concurrency: number | undefined;
    /** A limit below the case's for this entry's account ceiling (a decision on older totals). */
    lowerLimit: boolean;
  }[];
}

// Each way an entry can stop a batch from being clear is rare on its own, so that about half of the
// cases are clear and the other half test the fallback, near and far from the limits.
const caseArb: fc.Arbitrary<Case> = fc.record({
  committedCents: fc.array(fc.integer({ min: 0, max: 1_500 }), { minLength: 4, maxLength: 4 }),
  limitCents: fc.array(
    fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 3_000 }), weight: 1 },
      { arbitrary: fc.constant(100_000), weight: 3 },
    ),
    { minLength: 4, maxLength: 4 },
  ),
  held: fc.subarray(TASKS, { maxLength: 2 }),
  queued: fc.option(fc.constantFrom(...TASKS), { nil: undefined, freq: 2 }),
  entries: fc.array(
    fc.record({
      // A repeated id is a retry the batch must answer as the loop does.
      id: rarely<number | undefined>(undefined, 0),
      task: fc.constantFrom(...TASKS),
      account: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }),
      cents: fc.integer({ min: 0, max: 900 }),
      checkTask: fc.boolean(),
      version: rarely<number | undefined>(VERSION, VERSION - 1),
      token: rarely<'ok' | 'revoked' | undefined>('ok', 'revoked'),
      window: fc.boolean(),
      // Small limits, on some entries of an account only, so the batch meets them.
      concurrency: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined, freq: 2 }),
      lowerLimit: fc.oneof(
        { arbitrary: fc.constant(false), weight: 3 },
        { arbitrary: fc.constant(true), weight: 1 },
      ),
    }),
    { minLength: 1, maxLength: 6 },
  ),
});

/** The batch as `reservePayload` builds it (see reserve.ts), for tenant `t`. */
function payloads(t: string, c: Case): unknown[] {
  return c.entries.map((e, i) => {
    const account = ACCOUNTS[e.account] ?? 'a0';
    const accountLimit = c.limitCents[e.account] ?? 0;
    return {
      id: `r-${e.id ?? i}`,
      tenantId: t,
      taskId: e.task,
      account,
      provider: 'anthropic',
      model: 'claude-sonnet-4',
      decision: 'allow',
      usd: usd(e.cents),
      ttlMs: 600_000,
      windows: e.window ? [{ window: '5h', percent: (e.cents / 40).toFixed(4) }] : [],
      holds: [
        { scope: 'account', key: account, period: PERIOD.period, periodStart: PERIOD.start },
        { scope: 'provider', key: 'anthropic', period: PERIOD.period, periodStart: PERIOD.start },
      ],
      request: { taskId: e.task, estimate: { usd: usd(e.cents) } },
      ceilings: [
        {
          scope: 'account',
          key: account,
          ...PERIOD,
          limit: usd(e.lowerLimit ? Math.floor(accountLimit / 2) : accountLimit),
        },
        { scope: 'provider', key: 'anthropic', ...PERIOD, limit: usd(c.limitCents[3] ?? 0) },
      ],
      concurrency:
        e.concurrency === undefined ? [] : [{ scope: 'account', key: account, limit: e.concurrency }],
      audit: {
        decision: 'allow',
        account,
        model: 'claude-sonnet-4',
        reason: `fits ${i}`,
        trace: [{ n: i }],
      },
      ...(e.version !== undefined ? { version: e.version } : {}),
      ...(e.checkTask ? { checkTask: true } : {}),
      ...(e.token === 'ok'
        ? { tokenId: `${t}-tok` }
        : e.token === 'revoked'
          ? { tokenId: `${t}-revoked` }
          : {}),
    };
  });
}

/** The tenant, its tokens, accounts and windows: what every case starts from. */
async function setUpTenant(db: Kysely<FleetDatabase>, t: string): Promise<void> {
  await batchTenant(db, t, ACCOUNTS, VERSION);
  for (const a of ACCOUNTS) {
    await sql`insert into fleet.window_state (tenant_id, account_id, window_name, used_percent, observed_at, reset_confidence)
              values (${t}, ${a}, '5h', 10, now(), 'provider')`.execute(db);
  }
}

/** Writes the case's state before the batch (inside the caller's transaction). */
async function setUpCase(db: Kysely<FleetDatabase>, t: string, c: Case): Promise<void> {
  await insertBatchTotals(db, t, 'committed_usd', c.committedCents);
  for (const task of c.held) {
    await sql`insert into fleet.reservations (id, tenant_id, task_id, account_id, provider, model, usd, windows, holds,
                status, decision, expires_at, request)
              values (${`held-${task}`}, ${t}, ${task}, 'a0', 'anthropic', 'claude-sonnet-4', 0, '[]', '[]', 'live',
                'allow', now() + interval '1 hour', '{}')`.execute(db);
  }
  if (c.queued !== undefined) {
    await sql`insert into fleet.queue_entries (id, tenant_id, task_id, request, priority, status, reason)
              values (${`q-${c.queued}`}, ${t}, ${c.queued}, '{}', 0, 'waiting', 'test')`.execute(db);
  }
}

/** Everything a batch writes for tenant `t`, in a form two transactions can be compared by. */
async function digest(db: Kysely<FleetDatabase>, t: string): Promise<unknown> {
  const reservations = await sql`
    select id, task_id, account_id, usd::text, status, windows, holds, decision, request,
           (expires_at - now())::text as ttl
      from fleet.reservations where tenant_id = ${t} order by id`.execute(db);
  const audit = await sql`
    select task_id, decision, account_id, model, reason, trace, reservation_id, queue_id
      from fleet.gate_decisions where tenant_id = ${t} order by id`.execute(db);
  const totals = await sql`
    select scope, key, committed_usd::text, reserved_usd::text
      from fleet.period_totals where tenant_id = ${t} order by scope, key`.execute(db);
  const windows = await sql`
    select account_id, reserved_percent::text from fleet.window_state where tenant_id = ${t} order by account_id`.execute(
    db,
  );
  // A concurrency row's count is informational (decisions count live reservations): the loop leaves
  // the count its scope's last entry saw, the batch the count after all of them. The rows compared
  // are which scopes exist; `inflightCurrent` says whether every count is the live one.
  const inflight = await sql`
    select scope, key from fleet.inflight where tenant_id = ${t} order by scope, key`.execute(db);
  return {
    reservations: reservations.rows,
    audit: audit.rows,
    totals: totals.rows,
    windows: windows.rows,
    inflight: inflight.rows,
  };
}

type Answer = { ok: boolean; expiresAt?: string; code?: string; message?: string };

/**
 * Calls `fns` in turn with the case's batch, in a transaction it rolls back, and returns the last
 * one's answers (expiry instants replaced by their presence: the runs' clocks differ) and the rows
 * the batch wrote.
 */
async function trial(
  db: Kysely<FleetDatabase>,
  t: string,
  c: Case,
  fns: string[],
): Promise<{ answers: Answer[] | null; rows: unknown; inflightCurrent: boolean }> {
  const { answers, rows } = await inRolledBackBatch<Answer[], { digest: unknown; inflightCurrent: boolean }>(
    db,
    (conn) => setUpCase(conn, t, c),
    payloads(t, c),
    fns,
    async (conn) => {
      const current = await sql<{ ok: boolean | null }>`
        select bool_and(count = fleet.live_reservations(tenant_id, scope, key)) as ok
          from fleet.inflight where tenant_id = ${t}`.execute(conn);
      return { digest: await digest(conn, t), inflightCurrent: current.rows[0]?.ok !== false };
    },
  );
  return {
    answers: answers?.map((a) => (a.expiresAt ? { ...a, expiresAt: 'set' } : a)) ?? null,
    rows: rows.digest,
    inflightCurrent: rows.inflightCurrent,
  };
}

describeOnBackends('fleet.gate_reserve', (env) => {
  it('answers and writes a clear batch in one pass exactly as entry by entry, and falls back otherwise', async () => {
    const db = env().database.db;
    const t = `t-reserve-${Date.now()}`;
    await setUpTenant(db, t);
    await assertOverBothPaths(caseArb, async (c) => {
      // The entry-by-entry path is the rule; the locks come first on every path, as in gate_reserve.
      const each = await trial(db, t, c, ['fleet.gate_reserve_lock', 'fleet.gate_reserve_each']);
      const all = await trial(db, t, c, ['fleet.gate_reserve_lock', 'fleet.gate_reserve_all']);
      const whole = await trial(db, t, c, ['fleet.gate_reserve']);
      expect(whole.answers).toEqual(each.answers);
      if (all.answers === null) {
        expect(whole.rows).toEqual(each.rows);
        return false;
      }
      expect(all.answers).toEqual(each.answers);
      expect(all.rows).toEqual(each.rows);
      expect(all.inflightCurrent).toBe(true);
      expect(whole.rows).toEqual(all.rows);
      return true;
    });
  });
});
