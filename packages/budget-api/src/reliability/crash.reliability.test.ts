import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { dec } from '@mosaic/budget-core';
import { apiAccount, spend } from '../test-support/fixtures.js';
import { relDatabase, RUN_POSTGRES, type RelDatabase } from './support/postgres.js';
import { ensureApiBuilt, newToken, startReplica, stopAll, type Replica } from './support/replicas.js';
import { call, gateBody } from './support/http.js';
import { rng, sleep } from './support/rng.js';

// Test 2: kill -9 a replica while it ingests a batch and commits reservations, at random points, 20
// times. Each batch is wholly in or wholly out; the client's retry with the same keys (through a
// surviving replica) leaves exact totals.
const ROUNDS = 20;
const BATCH = 1_000;

describe.skipIf(!RUN_POSTGRES)('crash mid-write [postgres, processes, kill -9]', () => {
  let rel: RelDatabase | undefined;
  let survivor: Replica | undefined;
  const token = newToken();

  beforeAll(async () => {
    await ensureApiBuilt();
    rel = await relDatabase('crash');
    survivor = await startReplica({ databaseUrl: rel.url, token });
  }, 300_000);
  afterAll(async () => {
    await stopAll();
    await rel?.drop();
  });

  it('leaves every batch wholly in or out after a kill -9, and exact totals after the retries', async () => {
    const db = rel!.database.db;
    const s = survivor!.url;
    expect(
      (await call(s, token, 'PUT', '/v1/accounts/acct-api', apiAccount('acct-api', '100000'))).status,
    ).toBe(201);
    const random = rng(2);
    const counts = async (round: number): Promise<number> =>
      (
        await sql<{
          n: number;
        }>`select count(*)::int as n from fleet.spend_ledger where idempotency_key like ${`c${round}-%`}`.execute(
          db,
        )
      ).rows[0]!.n;
    let expectedUsd = dec(0);
    const partial: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const victim = await startReplica({ databaseUrl: rel!.url, token });
      // Reservations to commit through the victim.
      const ids: string[] = [];
      for (let k = 0; k < 3; k++) {
        const g = await call(s, token, 'POST', '/v1/gate', gateBody(`c${round}-g${k}`, '1.00'));
        ids.push(String(g.json.reservationId));
      }
      const records = Array.from({ length: BATCH }, (_, k) => spend(`c${round}-${k}`, '0.01'));
      const sent = [
        call(victim.url, token, 'POST', '/v1/spend', { records }, 30_000),
        ...ids.map((id) =>
          call(
            victim.url,
            token,
            'POST',
            `/v1/reservations/${id}/commit`,
            { actual: { inputTokens: 1, outputTokens: 1, usd: '0.50' } },
            30_000,
          ),
        ),
      ];
      await sleep(Math.floor(random() * 400));
      await victim.kill();
      await Promise.all(sent);
      // Whatever the point of the kill, the batch is all there or not at all (twice: a commit in flight lands whole).
      for (const wait of [0, 1_000]) {
        await sleep(wait);
        const n = await counts(round);
        if (n !== 0 && n !== BATCH) partial.push(`round ${round}: ${n} of ${BATCH}`);
      }
      // The client retries with the same keys and the same reservation ids, through the survivor.
      const again = await call(s, token, 'POST', '/v1/spend', { records }, 60_000);
      expect(again.status, JSON.stringify(again.json)).toBe(200);
      for (const id of ids) {
        const c = await call(s, token, 'POST', `/v1/reservations/${id}/commit`, {
          actual: { inputTokens: 1, outputTokens: 1, usd: '0.50' },
        });
        expect(c.status, JSON.stringify(c.json)).toBe(200);
      }
      expect(await counts(round)).toBe(BATCH);
      expectedUsd = expectedUsd.plus(dec('0.01').times(BATCH)).plus(dec('0.50').times(ids.length));
    }
    expect(partial).toEqual([]);
    const ledger = await sql<{
      n: number;
      usd: string;
    }>`select count(*)::int as n, sum(usd)::text as usd from fleet.spend_ledger`.execute(db);
    const totals = await sql<{
      c: string;
      r: string;
    }>`select committed_usd::text as c, reserved_usd::text as r from fleet.period_totals where scope = 'account' and key = 'acct-api' and period = 'P1D'`.execute(
      db,
    );
    console.info(
      `[reliability:crash] rounds=${ROUNDS} ledger-rows=${ledger.rows[0]!.n} usd=${ledger.rows[0]!.usd} committed=${totals.rows[0]!.c}`,
    );
    expect(ledger.rows[0]!.n).toBe(ROUNDS * (BATCH + 3));
    expect(dec(ledger.rows[0]!.usd).eq(expectedUsd)).toBe(true);
    expect(dec(totals.rows[0]!.c).eq(expectedUsd)).toBe(true);
    expect(dec(totals.rows[0]!.r).isZero()).toBe(true);
  }, 900_000);
});
