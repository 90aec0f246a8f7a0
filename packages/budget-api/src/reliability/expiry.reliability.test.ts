import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { dec } from '@mosaic/budget-core';
import { apiAccount } from '../test-support/fixtures.js';
import { relDatabase, RUN_POSTGRES, type RelDatabase } from './support/postgres.js';
import { ensureApiBuilt, newToken, startReplicas, stopAll, type Replica } from './support/replicas.js';
import { call, gateBody } from './support/http.js';
import { TotalsSampler } from './support/overspend.js';
import { pool, sleep, until } from './support/rng.js';

// Test 11: a 2 s TTL with the sweeper running on 4 replicas; half the reservations are committed right
// at the TTL boundary. Each resolves exactly once, within TTL + 1 s, and no total goes negative.
const COUNT = 40;

describe.skipIf(!RUN_POSTGRES)('expiry races [postgres, 4 processes]', () => {
  let rel: RelDatabase | undefined;
  let replicas: Replica[] = [];
  const token = newToken();

  beforeAll(async () => {
    await ensureApiBuilt();
    rel = await relDatabase('expiry');
    replicas = await startReplicas(4, { databaseUrl: rel.url, token });
  }, 300_000);
  afterAll(async () => {
    await stopAll();
    await rel?.drop();
  });

  it('resolves every reservation exactly once within TTL + 1 s, with no negative total', async () => {
    const db = rel!.database.db;
    const base = (i: number): string => replicas[i % 4]!.url;
    expect(
      (await call(base(0), token, 'PUT', '/v1/accounts/acct-api', apiAccount('acct-api', '1000'))).status,
    ).toBe(201);
    expect((await call(base(1), token, 'PUT', '/v1/policy', { reservations: { ttl: 'PT2S' } })).status).toBe(
      200,
    );
    const sampler = new TotalsSampler(db, 'acct-api');
    sampler.start();
    const commits: { id: string; status: number; late?: boolean }[] = [];
    await pool(COUNT, 10, async (i) => {
      const g = await call(base(i), token, 'POST', '/v1/gate', gateBody(`exp-${i}`, '0.50'));
      expect(g.status).toBe(200);
      if (i % 2 === 0) {
        // Right at the boundary, through another replica than the one that reserved.
        await sleep(1_950 + (i % 5) * 25);
        const c = await call(
          base(i + 1),
          token,
          'POST',
          `/v1/reservations/${String(g.json.reservationId)}/commit`,
          { actual: { inputTokens: 1, outputTokens: 1, usd: '0.25' } },
        );
        commits.push({ id: String(g.json.reservationId), status: c.status, late: c.json.late as boolean });
      }
    });
    const done = await until(
      async () => {
        const r = await sql<{
          n: number;
        }>`select count(*)::int as n from fleet.reservations where status = 'live'`.execute(db);
        return r.rows[0]?.n === 0;
      },
      30_000,
      100,
    );
    await sampler.stop();
    expect(done).toBe(true);
    expect(commits.every((c) => c.status === 200)).toBe(true);
    const rows = await sql<{ status: string; n: number; worst: string | null }>`
      select status, count(*)::int as n, max(extract(epoch from settled_at - expires_at))::text as worst
      from fleet.reservations group by status`.execute(db);
    const expired = rows.rows.find((r) => r.status === 'expired');
    console.info(
      `[reliability:expiry] ${JSON.stringify(rows.rows)} min-reserved=${sampler.minReserved.toString()}`,
    );
    expect(rows.rows.reduce((s, r) => s + r.n, 0)).toBe(COUNT);
    expect(rows.rows.every((r) => r.status === 'expired' || r.status === 'committed')).toBe(true);
    expect(Number(expired?.worst ?? 0), 'latest expiry after its TTL, in seconds').toBeLessThanOrEqual(1);
    expect(sampler.minReserved.gte(0)).toBe(true);
    const ledger = await sql<{
      n: number;
      usd: string;
    }>`select count(*)::int as n, coalesce(sum(usd),0)::text as usd from fleet.spend_ledger`.execute(db);
    expect(ledger.rows[0]!.n).toBe(COUNT / 2);
    const totals = await sql<{
      c: string;
      r: string;
    }>`select committed_usd::text as c, reserved_usd::text as r from fleet.period_totals where scope = 'account' and key = 'acct-api' and period = 'P1D'`.execute(
      db,
    );
    expect(dec(totals.rows[0]!.r).isZero()).toBe(true);
    expect(dec(totals.rows[0]!.c).eq(ledger.rows[0]!.usd)).toBe(true);
  }, 300_000);
});
