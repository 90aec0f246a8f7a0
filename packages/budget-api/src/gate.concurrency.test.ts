import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { dec, ZERO } from '@mosaic/budget-core';
import type { Decimal } from 'decimal.js';
import { freshDatabase, POSTGRES_AVAILABLE, type TestDatabase } from './test-support/backends.js';
import { spawnService, type ServiceProcess } from './test-support/processes.js';
import { MIGRATION_NAMES } from './db/migrate.js';
import { apiAccount } from './test-support/fixtures.js';

// The scenario the issue names: 4 replicas, 500 concurrent requests, a $10.00 ceiling.
const REPLICAS = 4;
const REQUESTS = 500;
const CEILING = '10.00';
const TOKEN = 'mbt_00000000000000aa_concurrency-test-token-0123456789abcdefghijk';

// A deterministic generator (mulberry32): the run is random-looking but reproducible from its seed.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const runPostgres = POSTGRES_AVAILABLE || process.env.CI === 'true';

describe.skipIf(!runPostgres)('the gate under concurrency [postgres, 4 processes]', () => {
  let testDb: TestDatabase | undefined;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    testDb = await freshDatabase('postgres');
    // All replicas start at once on an unmigrated database: migrations must run exactly once.
    await sql`drop schema fleet cascade`.execute(testDb.database.db);
    const started = await Promise.all(
      Array.from({ length: REPLICAS }, () =>
        spawnService({ DATABASE_URL: testDb?.databaseUrl ?? '', BUDGET_BOOTSTRAP_TOKEN: TOKEN }, 240_000),
      ),
    );
    services.push(...started);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await testDb?.teardown();
  });

  it(
    'never lets reserved + committed exceed a $10.00 ceiling, and the ledger equals the sum of the commits exactly',
    { timeout: 240_000 },
    async () => {
      const db = testDb?.database.db;
      if (!db) throw new Error('no database');
      const migrations = await sql<{
        n: string;
      }>`select count(*)::text as n from fleet.kysely_migration`.execute(db);
      expect(Number(migrations.rows[0]?.n)).toBe(MIGRATION_NAMES.length);

      const auth = { authorization: `Bearer ${TOKEN}` };
      const call = async (
        i: number,
        method: string,
        path: string,
        body?: unknown,
      ): Promise<{ status: number; json: Record<string, unknown> }> => {
        // As docs/gate.md tells orchestrators: on 503 (a saturated pool on a loaded machine), retry
        // the same idempotent request after a pause, on the next replica.
        for (let attempt = 0; ; attempt++) {
          const base = services[(i + attempt) % services.length]?.url ?? '';
          const res = await fetch(`${base}${path}`, {
            method,
            headers: body ? { ...auth, 'content-type': 'application/json' } : auth,
            ...(body ? { body: JSON.stringify(body) } : {}),
          });
          const json = (await res.json()) as Record<string, unknown>;
          if (res.status !== 503 || attempt >= 20) return { status: res.status, json };
          await new Promise((r) => setTimeout(r, 250 + attempt * 100));
        }
      };
      const put = await call(0, 'PUT', '/v1/accounts/acct-api', apiAccount('acct-api', CEILING));
      expect(put.status).toBe(201);

      let maxSeen: Decimal = ZERO;
      let sampling = true;
      const committed: Decimal[] = [];
      const statuses = new Map<number, number>();
      const outcomes = new Map<string, number>();
      const sampler = (async () => {
        while (sampling) {
          const row = await db
            .selectFrom('fleet.period_totals')
            .select(sql<string>`(committed_usd + reserved_usd)::text`.as('used'))
            .where('scope', '=', 'account')
            .where('key', '=', 'acct-api')
            // The ceiling's period: the week and month rows carry the same commits but no reservations.
            .where('period', '=', 'P1D')
            .executeTakeFirst();
          if (row && dec(row.used).gt(maxSeen)) maxSeen = dec(row.used);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();

      try {
        const random = rng(20261124);
        await Promise.all(
          Array.from({ length: REQUESTS }, async (_, i) => {
            const estimate = dec(Math.floor(random() * 45 + 5)).div(100); // $0.05 .. $0.49
            const commitIt = random() < 0.5;
            const actual = estimate
              .times(dec(Math.floor(random() * 100) + 1))
              .div(100)
              .toDecimalPlaces(4);
            const g = await call(i, 'POST', '/v1/gate', {
              taskId: `task-${i}`,
              taskClass: 'feature',
              model: 'claude-sonnet-4',
              estimate: { usd: estimate.toString() },
              agent: 'a',
              host: `host-${i % REPLICAS}`,
              mission: 'load',
            });
            statuses.set(g.status, (statuses.get(g.status) ?? 0) + 1);
            const decision = String(g.json.decision);
            outcomes.set(decision, (outcomes.get(decision) ?? 0) + 1);
            const id = g.json.reservationId;
            if (typeof id !== 'string') return;
            // Settle through a different replica than the one that reserved.
            if (commitIt) {
              const c = await call(i + 1, 'POST', `/v1/reservations/${id}/commit`, {
                actual: { inputTokens: 100, outputTokens: 10, usd: actual.toString() },
              });
              expect(c.status).toBe(200);
              committed.push(actual);
            } else {
              const r = await call(i + 1, 'POST', `/v1/reservations/${id}/release`);
              expect(r.status).toBe(200);
            }
          }),
        );
      } finally {
        sampling = false;
        await sampler;
      }

      expect(
        [...statuses.keys()].every((s) => s === 200),
        JSON.stringify([...statuses]),
      ).toBe(true);
      expect(outcomes.get('allow') ?? 0).toBeGreaterThan(0);
      expect(maxSeen.lte(CEILING), `max committed + reserved seen: ${maxSeen.toString()}`).toBe(true);

      // One statement, so the totals and the live reservations are read from one snapshot while the
      // replicas' background admission may still be reserving for queued work.
      const consistent = await sql<{ committed: string; reserved: string; live: string }>`
        select t.committed_usd::text as committed, t.reserved_usd::text as reserved,
               (select coalesce(sum(usd), 0) from fleet.reservations where status = 'live')::text as live
          from fleet.period_totals t where t.scope = 'account' and t.key = 'acct-api' and t.period = 'P1D'
      `.execute(db);
      const totals = consistent.rows[0];
      if (!totals) throw new Error('no running totals for the account');
      const live = { usd: totals.live };
      const ledger = await db
        .selectFrom('fleet.spend_ledger')
        .select(sql<string>`coalesce(sum(usd), 0)::text`.as('usd'))
        .executeTakeFirstOrThrow();
      const sumCommits = committed.reduce((a, b) => a.plus(b), ZERO);
      expect(dec(ledger.usd).eq(sumCommits), `ledger ${ledger.usd} vs commits ${sumCommits.toString()}`).toBe(
        true,
      );
      expect(dec(totals.committed).eq(sumCommits)).toBe(true);
      // Reservations admitted later from the queue may still be live; the running total holds exactly them.
      expect(dec(totals.reserved).eq(dec(live.usd)), `reserved ${totals.reserved} vs live ${live.usd}`).toBe(
        true,
      );
      expect(dec(totals.committed).plus(dec(totals.reserved)).lte(CEILING)).toBe(true);
    },
  );
});
