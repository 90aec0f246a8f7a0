import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { ensureTenant } from './auth/tokens.js';
import { openDatabase, type Database } from './db/database.js';
import { freshDatabase, POSTGRES_AVAILABLE, type TestDatabase } from './test-support/backends.js';
import { apiAccount } from './test-support/fixtures.js';

const MUST = process.env.CI === 'true';

/** A loopback TCP proxy to PostgreSQL that a test can cut (refusing connections) and restore. */
class Cuttable {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address && typeof address === 'object') this.port = address.port;
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

// Issue 5: while the database is unreachable the gate fails closed unless the account's policy says
// allow-capped; then it allows up to the cap per minute, reserves nothing, and audits once it is back.
describe.skipIf(!POSTGRES_AVAILABLE && !MUST)('the gate while its database is unreachable [postgres]', () => {
  let testDb: TestDatabase | undefined;
  let proxied: Database | undefined;
  let app: FastifyInstance | undefined;
  let proxy: Cuttable | undefined;

  beforeAll(async () => {
    testDb = await freshDatabase('postgres');
    const url = new URL(testDb.databaseUrl ?? '');
    proxy = new Cuttable({ host: url.hostname, port: Number(url.port || 5432) });
    await proxy.open();
    url.port = String(proxy.port);
    proxied = await openDatabase({ databaseUrl: url.toString(), poolSize: 4 });
    await ensureTenant(proxied.db, 'default');
    app = await buildApp({
      database: proxied,
      background: false,
      logger: process.env.MOSAIC_TEST_LOG ? { level: process.env.MOSAIC_TEST_LOG } : false,
      localPrincipal: { tenantId: 'default', scopes: ['admin'] },
    });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await proxied?.close().catch(() => undefined);
    await testDb?.teardown();
  });

  const gate = (taskId: string, account: string, usd: string) =>
    app!.inject({
      method: 'POST',
      url: '/v1/gate',
      payload: {
        taskId,
        taskClass: 'feature',
        model: 'claude-sonnet-4',
        account,
        estimate: { usd },
        agent: 'a',
        host: 'h',
      },
    });

  it('allows within the cap on an allow-capped account, fails closed past it and elsewhere, and audits later', async () => {
    const a = app!;
    for (const id of ['acct-open', 'acct-closed']) {
      const put = await a.inject({
        method: 'PUT',
        url: `/v1/accounts/${id}`,
        payload: apiAccount(id, '100'),
      });
      expect(put.statusCode, put.body).toBe(201);
    }
    const policy = {
      failure: {
        onDatabaseDown: 'refuse',
        accounts: { 'acct-open': { onDatabaseDown: 'allow-capped', capUsdPerMinute: '1.00' } },
      },
    };
    expect((await a.inject({ method: 'PUT', url: '/v1/policy', payload: policy })).statusCode).toBe(200);
    // One decision online, so this replica knows the configuration before the outage.
    expect((await gate('online', 'acct-open', '0.10')).json()).toMatchObject({ decision: 'allow' });

    await proxy!.cut();
    // The clock's minute may turn during the outage; both answers below then still fit one minute's cap.
    const first = await gate('down-1', 'acct-open', '0.40');
    const second = await gate('down-2', 'acct-open', '0.40');
    const third = await gate('down-3', 'acct-open', '0.40');
    const closed = await gate('down-4', 'acct-closed', '0.01');
    for (const res of [first, second]) {
      expect(res.statusCode).toBe(200);
      const body = res.json<{
        decision: string;
        failOpen?: boolean;
        reservationId?: string;
        reason: string;
      }>();
      expect(body).toMatchObject({ decision: 'allow', failOpen: true, account: 'acct-open' });
      expect(body.reservationId).toBeUndefined();
      expect(body.reason).toMatch(/fail-open cap/);
    }
    // $0.80 allowed; another $0.40 would pass the $1.00 cap unless a new minute began.
    if (third.statusCode === 200) expect(new Date().getUTCSeconds()).toBeLessThan(5);
    else expect(third.statusCode).toBe(503);
    expect(closed.statusCode).toBe(503);
    expect(closed.headers['retry-after']).toBeDefined();
    const metrics = await a.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/budget_gate_fail_open_total\{tenant="default",account="acct-open"\} [23]/);

    await proxy!.open();
    await a.gate.tick();
    const audited = await sql<{ task_id: string; reason: string }>`
      select task_id, reason from fleet.gate_decisions
       where task_id like 'down-%' order by task_id`.execute(testDb!.database.db);
    expect(audited.rows.map((r) => r.task_id).slice(0, 2)).toEqual(['down-1', 'down-2']);
    // Nothing was reserved while the database was down.
    const reserved = await sql<{ n: number }>`
      select count(*)::int as n from fleet.reservations where task_id like 'down-%'`.execute(
      testDb!.database.db,
    );
    expect(reserved.rows[0]?.n).toBe(0);
  }, 120_000);
});
