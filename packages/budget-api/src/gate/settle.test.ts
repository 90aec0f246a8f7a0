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

// Migration 0010 settles a clear batch of releases with one update per running total and window
// (fleet.reservation_settle_all) and any other batch entry by entry (fleet.reservation_settle_each).
// These tests hold the two to the same answers and rows on generated batches, so the fast path is
// an optimisation only, never a different rule.

const STATUSES = ['live', 'committed', 'released', 'expired'] as const;

/** One generated case: the reservations and running totals before the batch, and the batch. */
interface Case {
  /** Reserved USD (cents) per running total: the three accounts, then the provider. */
  reservedCents: number[];
  /** Reserved window % (hundredths) per account. */
  reservedPercent: number[];
  reservations: { account: number; cents: number; status: (typeof STATUSES)[number]; percent?: number }[];
  entries: {
    /** Index into the reservations (modulo their number); undefined: an unknown id. */
    target: number | undefined;
    to: 'released' | 'expired';
    tenant: 'own' | 'none' | 'other';
    token: 'ok' | 'revoked' | undefined;
  }[];
}

// Each way an entry can stop a batch from being clear is rare on its own, so that a good share of
// the cases are clear and the rest test the fallback.
const caseArb: fc.Arbitrary<Case> = fc.record({
  reservedCents: fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 4, maxLength: 4 }),
  reservedPercent: fc.array(fc.integer({ min: 0, max: 2_000 }), {
    minLength: ACCOUNTS.length,
    maxLength: ACCOUNTS.length,
  }),
  reservations: fc.array(
    fc.record(
      {
        account: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }),
        cents: fc.integer({ min: 0, max: 900 }),
        status: fc.oneof(
          { arbitrary: fc.constant('live' as const), weight: 20 },
          { arbitrary: fc.constantFrom(...STATUSES), weight: 1 },
        ),
        percent: fc.integer({ min: 0, max: 800 }),
      },
      { requiredKeys: ['account', 'cents', 'status'] },
    ),
    { minLength: 1, maxLength: 8 },
  ),
  entries: fc.array(
    fc.record({
      target: rarely<number | undefined>(0, undefined).chain((t) =>
        t === undefined ? fc.constant(undefined) : fc.integer({ min: 0, max: 7 }),
      ),
      to: fc.constantFrom('released' as const, 'expired' as const),
      tenant: fc.oneof(
        { arbitrary: fc.constantFrom('own' as const, 'none' as const), weight: 14 },
        { arbitrary: fc.constant('other' as const), weight: 1 },
      ),
      token: rarely<'ok' | 'revoked' | undefined>('ok', 'revoked'),
    }),
    { minLength: 1, maxLength: 6 },
  ),
});

/** The batch as the service's settle group sends it (see batcher.ts), for tenant `t`. */
function payloads(t: string, c: Case): unknown[] {
  return c.entries.map((e) => ({
    tenant: e.tenant === 'own' ? t : e.tenant === 'other' ? `${t}-other` : null,
    id: e.target === undefined ? `${t}-unknown` : `${t}-r${e.target % c.reservations.length}`,
    to: e.to,
    ...(e.token === 'ok'
      ? { tokenId: `${t}-tok` }
      : e.token === 'revoked'
        ? { tokenId: `${t}-revoked` }
        : {}),
  }));
}

/** The tenant with its tokens and accounts, and another tenant the batch may name by mistake. */
async function setUpTenant(db: Kysely<FleetDatabase>, t: string): Promise<void> {
  await batchTenant(db, t, ACCOUNTS);
  await sql`insert into fleet.tenants (id) values (${`${t}-other`})`.execute(db);
}

/** Writes the case's state before the batch (inside the caller's transaction). */
async function setUpCase(db: Kysely<FleetDatabase>, t: string, c: Case): Promise<void> {
  await insertBatchTotals(db, t, 'reserved_usd', c.reservedCents);
  for (const [i, a] of ACCOUNTS.entries()) {
    await sql`insert into fleet.window_state (tenant_id, account_id, window_name, used_percent, observed_at,
                reset_confidence, reserved_percent)
              values (${t}, ${a}, '5h', 10, now(), 'provider', ${((c.reservedPercent[i] ?? 0) / 100).toFixed(2)})`.execute(
      db,
    );
  }
  for (const [i, r] of c.reservations.entries()) {
    const account = ACCOUNTS[r.account] ?? 'a0';
    const holds = [
      { scope: 'account', key: account, period: PERIOD.period, periodStart: PERIOD.start },
      { scope: 'provider', key: 'anthropic', period: PERIOD.period, periodStart: PERIOD.start },
    ];
    const windows = r.percent === undefined ? [] : [{ window: '5h', percent: (r.percent / 100).toFixed(2) }];
    await sql`insert into fleet.reservations (id, tenant_id, task_id, account_id, provider, model, usd, windows,
                holds, status, decision, expires_at, request)
              values (${`${t}-r${i}`}, ${t}, ${`task-${i}`}, ${account}, 'anthropic', 'claude-sonnet-4',
                ${usd(r.cents)}, ${JSON.stringify(windows)}::jsonb, ${JSON.stringify(holds)}::jsonb, ${r.status},
                'allow', now() + interval '1 hour', '{}')`.execute(db);
  }
}

/** Everything a batch changes for tenant `t`, in a form two transactions can be compared by. */
async function digest(db: Kysely<FleetDatabase>, t: string): Promise<unknown> {
  const reservations = await sql`
    select id, status, settled_at is not null as settled from fleet.reservations where tenant_id = ${t} order by id`.execute(
    db,
  );
  const totals = await sql`
    select scope, key, reserved_usd::text from fleet.period_totals where tenant_id = ${t} order by scope, key`.execute(
    db,
  );
  const windows = await sql`
    select account_id, reserved_percent::text from fleet.window_state where tenant_id = ${t} order by account_id`.execute(
    db,
  );
  return { reservations: reservations.rows, totals: totals.rows, windows: windows.rows };
}

/** The case's batch through `fns` in a transaction that is rolled back: the last answers, the rows. */
function trial(
  db: Kysely<FleetDatabase>,
  t: string,
  c: Case,
  fns: string[],
): Promise<{ answers: unknown[] | null; rows: unknown }> {
  return inRolledBackBatch<unknown[], unknown>(
    db,
    (conn) => setUpCase(conn, t, c),
    payloads(t, c),
    fns,
    (conn) => digest(conn, t),
  );
}

describeOnBackends('fleet.reservation_settle_batch', (env) => {
  it('settles a clear batch in one pass exactly as entry by entry, and falls back otherwise', async () => {
    const db = env().database.db;
    const t = `t-settle-${Date.now()}`;
    await setUpTenant(db, t);
    await assertOverBothPaths(caseArb, async (c) => {
      const each = await trial(db, t, c, ['fleet.reservation_settle_lock', 'fleet.reservation_settle_each']);
      const all = await trial(db, t, c, ['fleet.reservation_settle_lock', 'fleet.reservation_settle_all']);
      const whole = await trial(db, t, c, ['fleet.reservation_settle_batch']);
      expect(whole).toEqual(each);
      if (all.answers === null) return false;
      expect(all).toEqual(each);
      return true;
    });
  });

  it('commits without waiting for the disk, in the settling transaction only (migration 0011)', async () => {
    // Losing a settlement in a crash only puts back a reservation that was freed; everything else
    // (reservations above all) must still wait for the WAL to reach the disk.
    const db = env().database.db;
    const setting = async (q: Kysely<FleetDatabase>) =>
      (await sql<{ s: string }>`select current_setting('synchronous_commit') as s`.execute(q)).rows[0]?.s;
    const outside = await setting(db);
    expect(outside).not.toBe('off');
    await db.transaction().execute(async (trx) => {
      expect(await setting(trx)).toBe(outside);
      await sql`select fleet.reservation_settle_batch('[]'::jsonb)`.execute(trx);
      expect(await setting(trx)).toBe('off');
    });
    expect(await setting(db)).toBe(outside);
  });

  it('refuses an entry whose caller’s token is revoked, on both paths, and settles the others', async () => {
    // The property holds the paths to each other; this holds them to the rule itself.
    const db = env().database.db;
    const t = `t-settle-token-${Date.now()}`;
    await setUpTenant(db, t);
    const c: Case = {
      reservedCents: [500, 0, 0, 500],
      reservedPercent: [0, 0, 0],
      reservations: [
        { account: 0, cents: 200, status: 'live' },
        { account: 0, cents: 300, status: 'live' },
      ],
      entries: [
        { target: 0, to: 'released', tenant: 'own', token: 'revoked' },
        { target: 1, to: 'released', tenant: 'own', token: 'ok' },
      ],
    };
    for (const fns of [
      ['fleet.reservation_settle_lock', 'fleet.reservation_settle_each'],
      ['fleet.reservation_settle_batch'],
    ]) {
      const { answers, rows } = await trial(db, t, c, fns);
      expect(answers).toMatchObject([
        { ok: false, code: 'MB401' },
        { ok: true, status: 'released', settled: true },
      ]);
      expect(rows).toMatchObject({
        reservations: [
          { id: `${t}-r0`, status: 'live', settled: false },
          { id: `${t}-r1`, status: 'released', settled: true },
        ],
        totals: [
          { scope: 'account', key: 'a0', reserved_usd: '2.00' },
          { scope: 'account', key: 'a1', reserved_usd: '0.00' },
          { scope: 'account', key: 'a2', reserved_usd: '0.00' },
          { scope: 'provider', key: 'anthropic', reserved_usd: '2.00' },
        ],
      });
    }
    // A revoked token makes the batch unclear: the one-pass path declines it.
    expect(
      (await trial(db, t, c, ['fleet.reservation_settle_lock', 'fleet.reservation_settle_all'])).answers,
    ).toBeNull();
  });

  it('settles entry by entry when a held window % is negative, where a sum would floor at 0 differently', async () => {
    // The gate never holds a negative %, but nothing in the table forbids one: taken down one by one,
    // 1.00 − 3.00 floors at 0 and then + 2.00 gives 2.00; summed first it would give 0.
    const db = env().database.db;
    const t = `t-settle-neg-${Date.now()}`;
    await setUpTenant(db, t);
    const c: Case = {
      reservedCents: [0, 0, 0, 0],
      reservedPercent: [100, 0, 0],
      reservations: [
        { account: 0, cents: 0, status: 'live', percent: 300 },
        { account: 0, cents: 0, status: 'live', percent: -200 },
      ],
      entries: [
        { target: 0, to: 'released', tenant: 'own', token: 'ok' },
        { target: 1, to: 'released', tenant: 'own', token: 'ok' },
      ],
    };
    const all = await trial(db, t, c, ['fleet.reservation_settle_lock', 'fleet.reservation_settle_all']);
    expect(all.answers).toBeNull();
    const whole = await trial(db, t, c, ['fleet.reservation_settle_batch']);
    expect(whole).toEqual(
      await trial(db, t, c, ['fleet.reservation_settle_lock', 'fleet.reservation_settle_each']),
    );
    expect(whole.rows).toMatchObject({
      windows: expect.arrayContaining([{ account_id: 'a0', reserved_percent: '2.00' }]) as unknown,
    });
  });
});
