import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { sql } from 'kysely';
import {
  accountSchema,
  dec,
  spendRecordSchema,
  ZERO,
  type Account,
  type SpendRecord,
} from '@mosaic/budget-core';
import { describeOnBackends } from '../test-support/backends.js';
import { apiAccount, spend, subscriptionAccount } from '../test-support/fixtures.js';
import { putAccount } from './accounts.js';
import { contentHash, ingestSpend, spendDeltas } from './spend.js';
import { mergeDeltas, totalKeysFor, type TotalDelta } from './totals.js';
import { numeric } from './wire.js';

// Zones with DST changes, a half-hour offset and a 45-minute one, so day groups differ from UTC days.
const ZONES = ['UTC', 'America/Chicago', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
const BASE_MS = DateTime.fromISO('2026-01-01T00:00:00Z').toMillis();
// Instants cluster within two days of 40 anchors spread over two years: records share local days
// that straddle UTC midnight (and DST changes, month ends, year ends), where the groups must split.
const ANCHORS = 40;
const ANCHOR_STEP_MS = 18 * 86_400_000;
const CLUSTER_MS = 2 * 86_400_000;
// A batch one record past two statement chunks (INSERT_CHUNK is 5,000 in spend.ts).
const BIG_BATCH = 5_002;
// Up to 60 records per case keeps a property run fast while groups still collide often.
const MAX_RECORDS = 60;

const accounts = new Map<string, Account>(
  ZONES.map((timezone, i) => [
    `a${i}`,
    accountSchema.parse({ ...apiAccount(`a${i}`), timezone, provider: i % 2 ? 'openai' : 'anthropic' }),
  ]),
);

// Each case's records get distinct keys by position, as a batch's keys are distinct.
const recordsArb = (minLength: number, maxLength: number): fc.Arbitrary<SpendRecord[]> =>
  fc
    .array(
      fc.record({
        account: fc.integer({ min: 0, max: ZONES.length - 1 }),
        anchor: fc.integer({ min: 0, max: ANCHORS }),
        withinMs: fc.integer({ min: 0, max: CLUSTER_MS }),
        cents: fc.integer({ min: 0, max: 100_000 }),
        projected: fc.boolean(),
      }),
      { minLength, maxLength },
    )
    .map((list) =>
      list.map(({ account, anchor, withinMs, cents, projected }, i) => {
        const acct = accounts.get(`a${account}`) as Account;
        return spendRecordSchema.parse(
          spend(`k${i}`, dec(cents).div(10_000).toString(), {
            account: acct.id,
            provider: acct.provider,
            kind: projected ? 'projected' : 'actual',
            occurredAt: new Date(BASE_MS + anchor * ANCHOR_STEP_MS + withinMs).toISOString(),
          }),
        );
      }),
    );

/** The rule spendDeltas must keep: every record adds its amount to each of its six rows. */
function perRecordDeltas(records: SpendRecord[]): TotalDelta[] {
  return records.flatMap((r) =>
    totalKeysFor(r.account, r.provider, accounts.get(r.account)?.timezone ?? 'UTC', r.occurredAt).map(
      (key) => ({
        ...key,
        committed: r.kind === 'actual' ? r.usd : ZERO,
        projected: r.kind === 'actual' ? ZERO : r.usd,
      }),
    ),
  );
}

function comparable(deltas: TotalDelta[]): string[] {
  return mergeDeltas(deltas)
    .filter((d) => !(d.committed.eq(ZERO) && d.projected.eq(ZERO)))
    .map(
      (d) =>
        `${d.scope} ${d.key} ${d.period} ${d.start.toMillis()} ${d.end.toMillis()} ${d.committed.toString()} ${d.projected.toString()}`,
    );
}

describe('spendDeltas', () => {
  it('lands on exactly the rows and amounts of one delta per record and period', () => {
    fc.assert(
      fc.property(recordsArb(0, MAX_RECORDS), (records) => {
        expect(comparable(spendDeltas(records, accounts))).toEqual(comparable(perRecordDeltas(records)));
      }),
      { numRuns: 500 },
    );
  });

  it('lands on the same rows when the records come in time order, as an import sends them', () => {
    // In time order an account's records mostly fall in the span of its previous one, the path that
    // skips the period look-up; the span must still end at the zone's midnight and at UTC midnight.
    fc.assert(
      fc.property(recordsArb(0, MAX_RECORDS), (records) => {
        const ordered = [...records].sort((a, b) => a.occurredAt.toMillis() - b.occurredAt.toMillis());
        expect(comparable(spendDeltas(ordered, accounts))).toEqual(comparable(perRecordDeltas(ordered)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('contentHash', () => {
  it('is the same for the same spend written with another offset or another decimal spelling', () => {
    const a = spendRecordSchema.parse(spend('h', '1.50', { occurredAt: '2026-03-01T12:00:00Z' }));
    const b = spendRecordSchema.parse(spend('h', '1.5', { occurredAt: '2026-03-01T06:00:00-06:00' }));
    expect(contentHash(a)).toBe(contentHash(b));
  });
});

describeOnBackends('ingestSpend', (env) => {
  it('keeps every running total equal to the sum of its ledger rows, over fresh, replayed and mixed batches', async () => {
    const { database } = env();
    const db = database.db;
    const tenant = `t-spend-${Date.now()}`;
    await sql`insert into fleet.tenants (id) values (${tenant})`.execute(db);
    for (const a of accounts.values()) await putAccount(db, tenant, a, 'test');
    const records = fc.sample(recordsArb(30, 30), { numRuns: 1, seed: 7 })[0] as SpendRecord[];
    const first = await ingestSpend(db, tenant, records.slice(0, 20));
    expect(first.inserted).toBe(20);
    // Half of the next batch is already held (duplicates), half is new.
    const second = await ingestSpend(db, tenant, records.slice(10, 30));
    expect(second.inserted).toBe(10);
    expect(second.duplicates.sort()).toEqual(
      records
        .slice(10, 20)
        .map((r) => r.idempotencyKey)
        .sort(),
    );
    const replay = await ingestSpend(db, tenant, records);
    expect(replay.inserted).toBe(0);
    expect(replay.duplicates).toHaveLength(30);

    const want = comparable(perRecordDeltas(records));
    const rows = await db
      .selectFrom('fleet.period_totals')
      .selectAll()
      .where('tenant_id', '=', tenant)
      .execute();
    const got = rows
      .filter((r) => !(numeric(r.committed_usd).eq(ZERO) && numeric(r.projected_usd).eq(ZERO)))
      .map(
        (r) =>
          `${r.scope} ${r.key} ${r.period} ${new Date(r.period_start).getTime()} ${new Date(r.period_end).getTime()} ${numeric(r.committed_usd).toString()} ${numeric(r.projected_usd).toString()}`,
      )
      .sort();
    expect(got).toEqual([...want].sort());
  });

  it('refuses a batch whose key is held with other content, writing nothing of it', async () => {
    const { database } = env();
    const db = database.db;
    const tenant = `t-conflict-${Date.now()}`;
    await sql`insert into fleet.tenants (id) values (${tenant})`.execute(db);
    await putAccount(db, tenant, accountSchema.parse(apiAccount()), 'test');
    await ingestSpend(db, tenant, [spendRecordSchema.parse(spend('c1', '1'))]);
    await expect(
      ingestSpend(db, tenant, [
        spendRecordSchema.parse(spend('c2', '2')),
        spendRecordSchema.parse(spend('c1', '1.01')),
      ]),
    ).rejects.toMatchObject({ code: 'BUDGET_ERR_IDEMPOTENCY_CONFLICT' });
    const keys = await db
      .selectFrom('fleet.spend_ledger')
      .select('idempotency_key')
      .where('tenant_id', '=', tenant)
      .execute();
    expect(keys.map((k) => k.idempotency_key)).toEqual(['c1']);
  });

  it('finds a held key between fresh ends: a duplicate is reported, other content refuses the whole batch', async () => {
    const { database } = env();
    const db = database.db;
    const tenant = `t-middle-${Date.now()}`;
    await sql`insert into fleet.tenants (id) values (${tenant})`.execute(db);
    await putAccount(db, tenant, accountSchema.parse(apiAccount()), 'test');
    await ingestSpend(db, tenant, [spendRecordSchema.parse(spend('held', '1'))]);
    // Only the batch's ends are looked up before writing, so these take the plain insert first.
    const conflicting = ['m1', 'm2'].map((k) => spendRecordSchema.parse(spend(k, '2')));
    await expect(
      ingestSpend(db, tenant, [
        conflicting[0] as SpendRecord,
        spendRecordSchema.parse(spend('held', '1.01')),
        conflicting[1] as SpendRecord,
      ]),
    ).rejects.toMatchObject({ code: 'BUDGET_ERR_IDEMPOTENCY_CONFLICT' });
    const keysAfterRefusal = await db
      .selectFrom('fleet.spend_ledger')
      .select('idempotency_key')
      .where('tenant_id', '=', tenant)
      .execute();
    expect(keysAfterRefusal.map((k) => k.idempotency_key)).toEqual(['held']);

    const result = await ingestSpend(db, tenant, [
      conflicting[0] as SpendRecord,
      spendRecordSchema.parse(spend('held', '1.00')),
      conflicting[1] as SpendRecord,
    ]);
    expect(result).toMatchObject({ inserted: 2, duplicates: ['held'] });
    const total = await db
      .selectFrom('fleet.period_totals')
      .select('committed_usd')
      .where('tenant_id', '=', tenant)
      .where('scope', '=', 'account')
      .where('period', '=', 'P1D')
      .executeTakeFirstOrThrow();
    expect(numeric(total.committed_usd).toString()).toBe('5');
  });

  it('writes a batch of more than one statement chunk whole, and refuses it whole for a key held in its last chunk', async () => {
    const { database } = env();
    const db = database.db;
    const tenant = `t-chunks-${Date.now()}`;
    await sql`insert into fleet.tenants (id) values (${tenant})`.execute(db);
    await putAccount(db, tenant, accountSchema.parse(apiAccount()), 'test');
    // One more record than a chunk holds, and one more after that: the batch spans two statements.
    const batch = (prefix: string): SpendRecord[] =>
      Array.from({ length: BIG_BATCH }, (_, i) => spendRecordSchema.parse(spend(`${prefix}-${i}`, '0.01')));
    expect((await ingestSpend(db, tenant, batch('a'))).inserted).toBe(BIG_BATCH);
    // Held between the batch's ends, so the batch is tried the plain way first.
    await ingestSpend(db, tenant, [spendRecordSchema.parse(spend('b-5000', '9'))]);
    await expect(ingestSpend(db, tenant, batch('b'))).rejects.toMatchObject({
      code: 'BUDGET_ERR_IDEMPOTENCY_CONFLICT',
    });
    const daily = async (): Promise<string> =>
      numeric(
        (
          await db
            .selectFrom('fleet.period_totals')
            .select('committed_usd')
            .where('tenant_id', '=', tenant)
            .where('scope', '=', 'account')
            .where('period', '=', 'P1D')
            .executeTakeFirstOrThrow()
        ).committed_usd,
      ).toString();
    expect(await daily()).toBe('59.02');
    const [{ n } = { n: 0 }] = await db
      .selectFrom('fleet.spend_ledger')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenant)
      .execute();
    expect(Number(n)).toBe(BIG_BATCH + 1);
  });

  it('adds actual spend after the newest signal of a window to that window, and only there', async () => {
    const { database } = env();
    const db = database.db;
    const tenant = `t-unsignaled-${Date.now()}`;
    await sql`insert into fleet.tenants (id) values (${tenant})`.execute(db);
    const sub = accountSchema.parse(subscriptionAccount('sub'));
    await putAccount(db, tenant, sub, 'test');
    await putAccount(db, tenant, accountSchema.parse(apiAccount('api')), 'test');
    await sql`insert into fleet.window_state (tenant_id, account_id, window_name, used_percent, observed_at,
      reset_confidence) values (${tenant}, 'sub', 'weekly', 10, '2026-03-01T12:00:00Z', 'estimated')`.execute(
      db,
    );
    const at = (iso: string, key: string, account: string, kind: 'actual' | 'projected' = 'actual') =>
      spendRecordSchema.parse(
        spend(key, '1.25', { account, model: 'claude-sonnet-4', occurredAt: iso, kind }),
      );
    await ingestSpend(db, tenant, [
      at('2026-03-01T11:00:00Z', 'before', 'sub'),
      at('2026-03-01T13:00:00Z', 'after', 'sub'),
      at('2026-03-01T14:00:00Z', 'projected', 'sub', 'projected'),
      at('2026-03-01T13:00:00Z', 'metered', 'api'),
    ]);
    const row = await db
      .selectFrom('fleet.window_state')
      .select('unsignaled_usd')
      .where('tenant_id', '=', tenant)
      .executeTakeFirstOrThrow();
    expect(numeric(row.unsignaled_usd).toString()).toBe('1.25');
  });

  it('sees an account created or changed since the previous batch', async () => {
    const { database } = env();
    const db = database.db;
    const tenant = `t-accounts-${Date.now()}`;
    await sql`insert into fleet.tenants (id) values (${tenant})`.execute(db);
    await putAccount(db, tenant, accountSchema.parse(apiAccount('first')), 'test');
    await ingestSpend(db, tenant, [spendRecordSchema.parse(spend('a1', '1', { account: 'first' }))]);
    await expect(
      ingestSpend(db, tenant, [spendRecordSchema.parse(spend('a2', '1', { account: 'later' }))]),
    ).rejects.toMatchObject({ code: 'BUDGET_ERR_UNKNOWN_ACCOUNT' });
    await putAccount(db, tenant, accountSchema.parse(apiAccount('later')), 'test');
    const created = await ingestSpend(db, tenant, [
      spendRecordSchema.parse(spend('a2', '1', { account: 'later' })),
    ]);
    expect(created.inserted).toBe(1);
    await putAccount(db, tenant, accountSchema.parse({ ...apiAccount('first'), provider: 'openai' }), 'test');
    await expect(
      ingestSpend(db, tenant, [spendRecordSchema.parse(spend('a3', '1', { account: 'first' }))]),
    ).rejects.toMatchObject({ code: 'BUDGET_ERR_UNKNOWN_ACCOUNT' });
  });
});
