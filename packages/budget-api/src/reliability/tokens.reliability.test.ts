import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { hashToken, revokeToken } from '../auth/tokens.js';
import { apiAccount, spend, subscriptionAccount } from '../test-support/fixtures.js';
import { gateBody } from './support/http.js';
import { RUN_POSTGRES } from './support/postgres.js';
import { injectEnv, via, type InjectEnv } from './support/inject.js';

// Test 8: tokens live only as hashes, compare in constant time, die on revocation, failed attempts are
// throttled, and no log line ever carries a token or an Authorization header.
const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

describe.skipIf(!RUN_POSTGRES)('tokens [postgres]', () => {
  let env: InjectEnv | undefined;
  const tokens: string[] = [];

  beforeAll(async () => {
    // The most talkative level, with the server's own redaction: whatever is logged is checked.
    env = await injectEnv('tokens', {
      level: 'trace',
      stream: sink,
      redact: { paths: (await import('../app.js')).LOG_REDACT_PATHS, censor: '[redacted]' },
    });
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  it('stores only SHA-256 hashes: no column of any token row holds the token or its secret', async () => {
    const clients = await Promise.all(
      ['admin', 'gate', 'read', 'ingest'].map((s) => env!.tenant([s as 'admin'])),
    );
    tokens.push(...clients.map((c) => c.token));
    const rows = await sql<Record<string, unknown>>`select * from fleet.api_tokens`.execute(
      env!.rel.database.db,
    );
    const dump = JSON.stringify(rows.rows);
    for (const c of clients) {
      const secret = c.token.slice(21);
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(c.token);
    }
    for (const row of rows.rows) expect(String(row.token_hash)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('compares in constant time: the lookup is by hash and the final check is timingSafeEqual', async () => {
    // Timing is not asserted (the machine is shared); the code path is: hash, look up by hash, compare
    // the stored hash with crypto.timingSafeEqual. A token that differs only in its secret fails.
    const source = readFileSync(new URL('../auth/tokens.ts', import.meta.url), 'utf8');
    expect(source).toMatch(/timingSafeEqual\(/);
    expect(source).not.toMatch(/token\s*===|===\s*token/);
    const c = await env!.tenant(['read']);
    tokens.push(c.token);
    const last = c.token.at(-1) === 'A' ? 'B' : 'A';
    const near = `${c.token.slice(0, -1)}${last}`;
    const res = await env!.app.inject({
      url: '/v1/accounts',
      headers: { authorization: `Bearer ${near}` },
      remoteAddress: '10.0.0.2',
    });
    expect(res.statusCode).toBe(401);
  });

  it('refuses a revoked token on its very next request, on every replica', async () => {
    const c = await env!.tenant(['admin']);
    tokens.push(c.token);
    expect((await c.request({ url: '/v1/accounts' })).statusCode).toBe(200);
    expect((await via(env!.second, c).request({ url: '/v1/accounts' })).statusCode).toBe(200);
    expect(await revokeToken(env!.rel.database.db, c.token)).toBe(true);
    const a = await c.request({ url: '/v1/accounts' });
    const b = await via(env!.second, c).request({ url: '/v1/accounts' });
    expect([a.statusCode, b.statusCode]).toEqual([401, 401]);
    expect(a.json()).toMatchObject({ code: 'BUDGET_ERR_UNAUTHENTICATED' });
  });

  it('refuses a revoked token on the gate and a release at once, though the replica had it verified', async () => {
    // The gate and release routes take a verified principal from the replica's cache and re-read the
    // token's row in their own statement: the cache may save a round trip, never a revocation.
    const c = await env!.tenant(['admin']);
    tokens.push(c.token);
    expect(
      (await c.request({ method: 'PUT', url: '/v1/accounts/acct-r', payload: apiAccount('acct-r', '10') }))
        .statusCode,
    ).toBe(201);
    const gate = (taskId: string) =>
      c.request({
        method: 'POST',
        url: '/v1/gate',
        payload: gateBody(taskId, '0.10', { account: 'acct-r' }),
      });
    const first = await gate('r-1');
    expect(first.statusCode).toBe(200);
    const reservationId = first.json<{ reservationId: string }>().reservationId;
    expect((await gate('r-2')).statusCode).toBe(200);
    expect(await revokeToken(env!.rel.database.db, c.token)).toBe(true);
    const afterGate = await gate('r-3');
    expect(afterGate.statusCode).toBe(401);
    expect(afterGate.json()).toMatchObject({ code: 'BUDGET_ERR_UNAUTHENTICATED' });
    const afterRelease = await c.request({
      method: 'POST',
      url: `/v1/reservations/${reservationId}/release`,
    });
    expect(afterRelease.statusCode).toBe(401);
    // Nothing was written for the refused requests: no third reservation, the first still live.
    const rows = await sql<{ task_id: string; status: string }>`
      select task_id, status from fleet.reservations where tenant_id = ${c.tenant} order by task_id`.execute(
      env!.rel.database.db,
    );
    expect(rows.rows).toEqual([
      { task_id: 'r-1', status: 'live' },
      { task_id: 'r-2', status: 'live' },
    ]);
  });

  it('refuses a revoked token on usage signals at once, though the replica had it verified', async () => {
    // The status line's route also takes its principal from the cache and re-reads the token's row in
    // the batch's first statement.
    const c = await env!.tenant(['admin']);
    tokens.push(c.token);
    const put = await c.request({
      method: 'PUT',
      url: '/v1/accounts/acct-s',
      payload: subscriptionAccount('acct-s'),
    });
    expect(put.statusCode).toBe(201);
    const signal = (usedPercent: string) =>
      c.request({
        method: 'POST',
        url: '/v1/usage-signals',
        payload: {
          signals: [
            { account: 'acct-s', window: 'weekly', usedPercent, observedAt: new Date().toISOString() },
          ],
        },
      });
    expect((await signal('10')).statusCode).toBe(200);
    expect((await signal('11')).statusCode).toBe(200);
    const cached = () => env!.app.verifiedTokens.get(hashToken(c.token), Date.now());
    expect(cached()?.tenantId).toBe(c.tenant);
    expect(await revokeToken(env!.rel.database.db, c.token)).toBe(true);
    const after = await signal('12');
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ code: 'BUDGET_ERR_UNAUTHENTICATED' });
    // The replica forgot the principal it had verified: the next request reads the token table.
    expect(cached()).toBeUndefined();
    const rows = await sql<{ used_percent: string }>`
      select used_percent::text from fleet.usage_signals where tenant_id = ${c.tenant} order by id`.execute(
      env!.rel.database.db,
    );
    expect(rows.rows.map((r) => r.used_percent)).toEqual(['10', '11']);
  });

  it('rate-limits failed authentication per client address (429 with Retry-After), and not other clients', async () => {
    const good = await env!.tenant(['read']);
    tokens.push(good.token);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await env!.app.inject({
        url: '/v1/accounts',
        headers: { authorization: `Bearer mbt_${'0'.repeat(16)}_${String(i).padStart(43, 'x')}` },
        remoteAddress: '10.9.9.9',
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.headers['retry-after']).toBeDefined();
        expect(res.json()).toMatchObject({ code: 'BUDGET_ERR_RATE_LIMITED' });
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(-5)).toEqual([429, 429, 429, 429, 429]);
    // Another client is not punished for the attacker's failures.
    const other = await env!.app.inject({
      url: '/v1/accounts',
      headers: { authorization: `Bearer ${good.token}` },
      remoteAddress: '10.9.9.10',
    });
    expect(other.statusCode).toBe(200);
  });

  it('never logs a token or an Authorization header, whatever the request', async () => {
    const c = await env!.tenant(['admin']);
    tokens.push(c.token);
    await c.request({ method: 'PUT', url: '/v1/accounts/acct-api', payload: apiAccount() });
    await c.request({ method: 'POST', url: '/v1/spend', payload: { records: [spend('log-1', '1')] } });
    await c.request({
      method: 'POST',
      url: '/v1/spend',
      payload: '{not json',
      headers: { 'content-type': 'application/json' },
    });
    await c.request({ url: `/v1/ledger?cursor=${encodeURIComponent(c.token)}` });
    await env!.app.inject({
      url: '/v1/accounts',
      headers: { authorization: `Bearer ${c.token}x` },
      remoteAddress: '10.0.0.7',
    });
    await env!.app.inject({
      url: '/v1/accounts',
      headers: { authorization: c.token },
      remoteAddress: '10.0.0.8',
    });
    expect(logLines.length).toBeGreaterThan(10);
    const leaks = logLines.filter(
      (line) =>
        tokens.some((t) => line.includes(t.slice(21))) || /"authorization":"(?!\[redacted\])/i.test(line),
    );
    expect(leaks).toEqual([]);
  });
});
