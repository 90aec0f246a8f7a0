import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { dec } from '@mosaic/budget-core';
import { apiAccount } from '../test-support/fixtures.js';
import { relDatabase, RUN_POSTGRES, type RelDatabase } from './support/postgres.js';
import {
  ensureApiBuilt,
  leakedSecrets,
  newToken,
  startReplicas,
  stopAll,
  type Replica,
} from './support/replicas.js';
import { call, gateBody } from './support/http.js';
import {
  DatabaseHighWater,
  ledgerAndTotals,
  overspendViolations,
  runOverspendLoad,
  SCENARIO,
  TotalsSampler,
  type GateDriver,
} from './support/overspend.js';
import { until } from './support/rng.js';

// Test 1 of the reliability issue: 4 replicas, 2,000 gate requests at 64 in flight.
const REPLICAS = 4;
const REQUESTS = Number(process.env.MOSAIC_REL_REQUESTS ?? 2_000);
const CONCURRENCY = 64;
const SEED = Number(process.env.MOSAIC_REL_SEED ?? 20261124);

describe.skipIf(!RUN_POSTGRES)('no overspend across replicas [postgres, 4 processes]', () => {
  let rel: RelDatabase | undefined;
  let replicas: Replica[] = [];
  const token = newToken();

  beforeAll(async () => {
    await ensureApiBuilt();
    rel = await relDatabase('overspend');
    replicas = await startReplicas(REPLICAS, { databaseUrl: rel.url, token });
  }, 300_000);

  afterAll(async () => {
    await stopAll();
    await rel?.drop();
  });

  it('never exceeds the ceiling or the concurrency limit at any instant, and the ledger equals the sum of commits to the cent', async () => {
    const db = rel!.database.db;
    const highWater = new DatabaseHighWater(db, SCENARIO.account);
    await highWater.install();
    const base = (i: number): string => replicas[i % replicas.length]!.url;
    const put = await call(
      base(0),
      token,
      'PUT',
      `/v1/accounts/${SCENARIO.account}`,
      apiAccount(SCENARIO.account, SCENARIO.ceilingUsd),
    );
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    const policy = await call(base(1), token, 'PUT', '/v1/policy', {
      concurrency: { accounts: { [SCENARIO.account]: SCENARIO.concurrency } },
      reservations: { ttl: 'PT15S' },
      queue: { enabled: false },
    });
    expect(policy.status, JSON.stringify(policy.json)).toBe(200);

    const driver: GateDriver = {
      gate: async (i, taskId, usd) => {
        const a = await call(
          base(i),
          token,
          'POST',
          '/v1/gate',
          gateBody(taskId, usd.toString(), { account: SCENARIO.account }),
        );
        return {
          status: a.status,
          ...(a.error ? { error: a.error } : {}),
          ...(typeof a.json.reservationId === 'string' ? { reservationId: a.json.reservationId } : {}),
        };
      },
      commit: async (i, id, usd) =>
        (
          await call(base(i), token, 'POST', `/v1/reservations/${id}/commit`, {
            actual: { inputTokens: 100, outputTokens: 10, usd: usd.toString() },
          })
        ).status,
      release: async (i, id) => (await call(base(i), token, 'POST', `/v1/reservations/${id}/release`)).status,
    };
    const sampler = new TotalsSampler(db, SCENARIO.account);
    const t0 = Date.now();
    const run = await runOverspendLoad(driver, sampler, {
      seed: SEED,
      requests: REQUESTS,
      concurrency: CONCURRENCY,
    });

    // The reservations left to expire resolve on the replicas' sweepers; afterwards nothing is held.
    const drained = await until(
      async () => {
        const live = await sql<{
          n: string;
        }>`select count(*)::text as n from fleet.reservations where status = 'live'`.execute(db);
        return live.rows[0]?.n === '0';
      },
      30_000,
      250,
    );
    expect(drained, 'every reservation left alone expired').toBe(true);
    await sampler.sample();
    const totals = await sql<{ reserved: string }>`
      select coalesce(sum(reserved_usd), 0)::text as reserved from fleet.period_totals where key = ${SCENARIO.account} and scope = 'account'`.execute(
      db,
    );
    expect(dec(totals.rows[0]?.reserved ?? '1').isZero()).toBe(true);

    // Every change the database logged, and every sample besides: the higher of the two is the peak.
    const exact = await highWater.read();
    const report = {
      ...run,
      samples: sampler.samples,
      maxUsedUsd: sampler.maxUsed.gt(exact.maxUsed) ? sampler.maxUsed : exact.maxUsed,
      maxInflight: Math.max(sampler.maxInflight, exact.maxInflight),
      minReservedUsd: sampler.minReserved,
      ...(await ledgerAndTotals(db)),
    };
    // The figure docs/reliability.md records.
    console.info(
      `[reliability:overspend] seconds=${((Date.now() - t0) / 1000).toFixed(1)} seed=${SEED} requests=${REQUESTS} reservations=${report.reservations} commits=${report.commits} releases=${report.releases} expired=${report.leftToExpire} samples=${report.samples} logged=${exact.events} max-used=${report.maxUsedUsd.toString()}/${SCENARIO.ceilingUsd} max-inflight=${report.maxInflight}/${SCENARIO.concurrency} ledger=${report.ledgerUsd.toString()} late=${report.lateUsd.toString()}`,
    );
    // Any error a replica logged (level 50+) is part of the failure report.
    const errors = replicas
      .flatMap((r) => r.output().split('\n'))
      .filter((l) => /"level":(50|60)/.test(l))
      .slice(0, 5);
    expect(overspendViolations(report), JSON.stringify([overspendViolations(report), errors])).toEqual([]);
    // The load must have pressed on both limits, or the test proves nothing.
    expect(report.maxInflight).toBe(SCENARIO.concurrency);
    // Pressed means no further task of the largest size ($0.30) would have fitted at some instant.
    expect(report.maxUsedUsd.gte(dec(SCENARIO.ceilingUsd).minus('0.30'))).toBe(true);
    // The database logged every reservation that went live and every change of the running total.
    expect(exact.events).toBeGreaterThanOrEqual(report.reservations);
  }, 900_000);

  it('logged no token and no Authorization header in any replica', async () => {
    await stopAll();
    expect(leakedSecrets([token])).toEqual([]);
  });
});
