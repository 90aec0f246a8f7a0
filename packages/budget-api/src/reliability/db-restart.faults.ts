import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { dec } from '@mosaic/budget-core';
import { apiAccount, spend } from '../test-support/fixtures.js';
import { relDatabase, type RelDatabase } from './support/postgres.js';
import {
  ensureApiBuilt,
  leakedSecrets,
  newToken,
  startReplicas,
  stopAll,
  type Replica,
} from './support/replicas.js';
import { call, gateBody } from './support/http.js';
import { ensurePgUp, lockRestarts, stopPg } from './support/pg-control.js';
import { sleep, until } from './support/rng.js';

// The replica's logged errors (pino level 50 and up), so a failure names its cause, not just its status.
function errorLines(replica: Replica | undefined): string {
  return (replica?.output() ?? '')
    .split('\n')
    .filter((line) => /"level":(5|6)\d/.test(line))
    .slice(-5)
    .join('\n');
}

// Test 3: the machine's real PostgreSQL goes down and comes back while gates and ingests run. It runs
// alone (`pnpm test:faults`, after the main suite) because it cuts every other test's database.
describe('database restart under load [postgres, 2 processes, restarts the server]', () => {
  let rel: RelDatabase | undefined;
  let replicas: Replica[] = [];
  let unlock: (() => void) | undefined;
  const token = newToken();

  beforeAll(async () => {
    unlock = await lockRestarts();
    await ensurePgUp();
    await ensureApiBuilt();
    rel = await relDatabase('restart');
    replicas = await startReplicas(2, { databaseUrl: rel.url, token });
  }, 600_000);

  afterAll(async () => {
    // Whatever happened, the shared server is brought back before anything else.
    await ensurePgUp();
    await stopAll();
    await rel?.drop().catch(() => undefined);
    unlock?.();
  }, 300_000);

  it('fails closed while the database is down (503 + Retry-After), recovers without a restart of its own, and loses or half-writes nothing', async () => {
    if (!rel) throw new Error('no database');
    const db = rel.database.db;
    const base = (i: number): string => replicas[i % 2]?.url ?? '';

    // The queued request lives on its own account, so the load's spend cannot fill its ceiling.
    expect(
      (await call(base(0), token, 'PUT', '/v1/accounts/acct-q', apiAccount('acct-q', '2.00'))).status,
    ).toBe(201);
    // Queued work: the ceiling is full, so this request waits in the queue across the restart.
    const hold = await call(
      base(0),
      token,
      'POST',
      '/v1/gate',
      gateBody('hold', '1.90', { account: 'acct-q' }),
    );
    const queued = await call(
      base(1),
      token,
      'POST',
      '/v1/gate',
      gateBody('queued', '1.00', { account: 'acct-q' }),
    );
    expect(hold.json.decision).toBe('allow');
    expect(queued.json.decision).toBe('queue');
    // The load's account exists only now, so the queued request could not be rerouted to it.
    expect(
      (await call(base(0), token, 'PUT', '/v1/accounts/acct-api', apiAccount('acct-api', '1000'))).status,
    ).toBe(201);

    // Load: spend batches of 10 (retried with the same keys until accepted) and gates, on both replicas.
    let running = true;
    const batches: string[][] = [];
    const downAnswers: { status: number; retryAfter: string | null }[] = [];
    const load = (async () => {
      let b = 0;
      const workers = [0, 1, 2, 3].map(async (w) => {
        while (running) {
          const keys = Array.from({ length: 10 }, (_, k) => `r-${w}-${b}-${k}`);
          b++;
          batches.push(keys);
          for (let attempt = 0; attempt < 600; attempt++) {
            const res = await call(
              base(w + attempt),
              token,
              'POST',
              '/v1/spend',
              { records: keys.map((k) => spend(k, '0.01')) },
              10_000,
            );
            if (res.status === 200) break;
            if (res.status >= 500 || res.status === -1) {
              if (res.status === 503)
                downAnswers.push({ status: 503, retryAfter: res.headers?.get('retry-after') ?? null });
              await sleep(250);
              continue;
            }
            await sleep(300);
            throw new Error(
              `spend answered ${res.status}: ${JSON.stringify(res.json)}\n${errorLines(replicas[(w + attempt) % 2])}`,
            );
          }
          const g = await call(
            base(w),
            token,
            'POST',
            '/v1/gate',
            gateBody(`g-${w}-${b}`, '0.001', { account: 'acct-api' }),
            10_000,
          );
          if (g.status === 503)
            downAnswers.push({ status: 503, retryAfter: g.headers?.get('retry-after') ?? null });
          else if (g.status !== 200 && g.status !== -1) {
            // The replica's log reaches this process through a pipe, after its HTTP answer.
            await sleep(300);
            throw new Error(
              `gate answered ${g.status}: ${JSON.stringify(g.json)}\n${errorLines(replicas[w % 2])}`,
            );
          }
          if (typeof g.json.reservationId === 'string')
            await call(
              base(w + 1),
              token,
              'POST',
              `/v1/reservations/${g.json.reservationId}/release`,
              undefined,
              10_000,
            );
        }
      });
      await Promise.all(workers);
    })();

    await sleep(3_000);
    const pids = replicas.map((r) => r.child.pid);
    try {
      await stopPg();
      // While it is down, the gate must refuse with 503 and a Retry-After, never 500 and never allow.
      const probe = await call(
        base(0),
        token,
        'POST',
        '/v1/gate',
        gateBody('while-down', '0.01', { account: 'acct-api' }),
        30_000,
      );
      expect(
        probe.status,
        `${probe.error ?? JSON.stringify(probe.json)} exit=${String(replicas[0]?.child.exitCode)} ${replicas[0]?.output().slice(-1500) ?? ''}`,
      ).toBe(503);
      expect(probe.headers?.get('retry-after')).toBeTruthy();
      expect(probe.json.code).toBe('BUDGET_ERR_DATABASE_UNAVAILABLE');
      await sleep(2_000);
    } finally {
      await ensurePgUp();
    }
    // The same processes recover on their own: their pools reconnect.
    const recovered = await until(
      async () =>
        (await call(base(1), token, 'GET', '/readyz')).status === 200 &&
        (await call(base(0), token, 'GET', '/readyz')).status === 200,
      60_000,
      500,
    );
    expect(recovered).toBe(true);
    await sleep(3_000);
    running = false;
    await load;
    expect(replicas.map((r) => r.child.pid)).toEqual(pids);
    expect(replicas.every((r) => r.child.exitCode === null)).toBe(true);

    // Nothing half-written: every batch is wholly in (the clients retried until it was), each key once.
    const rows = await sql<{ k: string }>`select idempotency_key as k from fleet.spend_ledger`.execute(db);
    const held = new Set(rows.rows.map((r) => r.k));
    const missing = batches.flat().filter((k) => !held.has(k));
    expect(missing).toEqual([]);
    expect(rows.rows.length).toBe(held.size);
    const totals = await sql<{
      c: string;
    }>`select committed_usd::text as c from fleet.period_totals where scope = 'account' and key = 'acct-api' and period = 'P1D'`.execute(
      db,
    );
    expect(dec(totals.rows[0]?.c ?? '-1').eq(dec('0.01').times(held.size))).toBe(true);

    // Queued work survived and is admitted once room frees.
    await call(base(0), token, 'POST', `/v1/reservations/${String(hold.json.reservationId)}/release`);
    const entry = await call(
      base(1),
      token,
      'GET',
      `/v1/queue/${String(queued.json.queueId)}?wait=30`,
      undefined,
      60_000,
    );
    expect(entry.json.status).toBe('admitted');
    console.info(
      `[reliability:db-restart] batches=${batches.length} rows=${held.size} answers-while-down=${downAnswers.length} (all 503 with Retry-After: ${downAnswers.every((a) => a.retryAfter !== null)})`,
    );
    expect(downAnswers.every((a) => a.retryAfter !== null)).toBe(true);
    await stopAll();
    expect(leakedSecrets([token])).toEqual([]);
  }, 600_000);
});
