import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { dec } from '@mosaic/budget-core';
import { apiAccount, spend } from '../test-support/fixtures.js';
import { relDatabase, RUN_POSTGRES, type RelDatabase } from './support/postgres.js';
import {
  ensureApiBuilt,
  leakedSecrets,
  newToken,
  startReplicas,
  stopAll,
  type Replica,
} from './support/replicas.js';
import { call, gateBody, type Answer } from './support/http.js';
import { pool } from './support/rng.js';

// Test 10: clients that give up after 5 ms (the request may or may not have been applied) and retry
// the same gate, the same commit and the same spend batch affect the register at most once.
const TASKS = 24;
const IMPATIENT = 8;

async function impatient(send: (timeoutMs: number) => Promise<Answer>): Promise<Answer> {
  for (let i = 0; i < IMPATIENT; i++) await send(5);
  // Finally a patient retry, to learn the outcome.
  return send(120_000);
}

describe.skipIf(!RUN_POSTGRES)('indeterminate outcomes [postgres, 2 processes]', () => {
  let rel: RelDatabase | undefined;
  let replicas: Replica[] = [];
  const token = newToken();

  beforeAll(async () => {
    await ensureApiBuilt();
    rel = await relDatabase('timeouts');
    replicas = await startReplicas(2, { databaseUrl: rel.url, token });
  }, 300_000);
  afterAll(async () => {
    await stopAll();
    await rel?.drop();
  });

  it('retries after 5 ms timeouts of the same gate, commit and spend batch count once each', async () => {
    const db = rel!.database.db;
    const base = (i: number): string => replicas[i % 2]!.url;
    expect(
      (await call(base(0), token, 'PUT', '/v1/accounts/acct-api', apiAccount('acct-api', '1000'))).status,
    ).toBe(201);
    const committed: string[] = [];
    await pool(TASKS, 8, async (t) => {
      let n = 0;
      const g = await impatient((ms) =>
        call(base(n++), token, 'POST', '/v1/gate', gateBody(`imp-${t}`, '1.00'), ms),
      );
      expect(g.status, JSON.stringify(g.json)).toBe(200);
      const id = String(g.json.reservationId);
      const actual = `0.${String(t + 10)}`;
      const c = await impatient((ms) =>
        call(
          base(n++),
          token,
          'POST',
          `/v1/reservations/${id}/commit`,
          { actual: { inputTokens: 1, outputTokens: 1, usd: actual } },
          ms,
        ),
      );
      expect(c.status, JSON.stringify(c.json)).toBe(200);
      committed.push(actual);
      const records = Array.from({ length: 5 }, (_, k) => spend(`imp-${t}-${k}`, '0.01'));
      const s = await impatient((ms) => call(base(n++), token, 'POST', '/v1/spend', { records }, ms));
      expect(s.status, JSON.stringify(s.json)).toBe(200);
    });

    const reservations = await sql<{ task: string; n: number }>`
      select task_id as task, count(*)::int as n from fleet.reservations group by task_id having count(*) <> 1`.execute(
      db,
    );
    expect(reservations.rows, 'one reservation per task').toEqual([]);
    const ledger = await sql<{ n: number; usd: string }>`
      select count(*)::int as n, coalesce(sum(usd), 0)::text as usd from fleet.spend_ledger`.execute(db);
    const expected = committed.reduce((s, u) => s.plus(u), dec(0)).plus(dec('0.05').times(TASKS));
    expect(ledger.rows[0]!.n).toBe(TASKS + TASKS * 5);
    expect(dec(ledger.rows[0]!.usd).eq(expected), `${ledger.rows[0]!.usd} vs ${expected.toString()}`).toBe(
      true,
    );
    const totals = await sql<{ c: string; r: string }>`
      select committed_usd::text as c, reserved_usd::text as r from fleet.period_totals
      where scope = 'account' and key = 'acct-api' and period = 'P1D'`.execute(db);
    expect(dec(totals.rows[0]!.c).eq(expected)).toBe(true);
    expect(dec(totals.rows[0]!.r).isZero()).toBe(true);
    console.info(
      `[reliability:timeouts] tasks=${TASKS} impatient-tries=${IMPATIENT * 3 * TASKS} ledger-rows=${ledger.rows[0]!.n} usd=${ledger.rows[0]!.usd}`,
    );
    await stopAll();
    expect(leakedSecrets([token])).toEqual([]);
  }, 600_000);
});
