import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './db/database.js';
import { buildApp } from './app.js';
import { BudgetApiError } from './errors.js';
import { spawnService, type ServiceProcess } from './test-support/processes.js';

describe('the service as a process on PGlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mosaic-serve-'));
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it(
    'prints its URL and a first admin token, locks its data directory against a second process, and exits cleanly on SIGTERM',
    { timeout: 240_000 },
    async () => {
      service = await spawnService({ BUDGET_DATA_DIR: dir, LOG_LEVEL: 'info' }, 150_000);
      const token = /admin token for tenant "default".*: (mbt_\S+)/.exec(service.output())?.[1];
      expect(token).toBeDefined();
      expect(service.output()).not.toMatch(/"level".*mbt_/);

      const res = await fetch(`${service.url}/v1/accounts`, {
        headers: { authorization: `Bearer ${token ?? ''}` },
      });
      expect(res.status).toBe(200);

      const second = await openDatabase({ dataDir: dir }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(second).toBeInstanceOf(BudgetApiError);
      expect((second as BudgetApiError).code).toBe('BUDGET_ERR_DATA_DIR_LOCKED');
      expect((second as BudgetApiError).message).toContain(`pid ${service.child.pid}`);

      await service.stop();
      expect(service.child.exitCode).toBe(0);
      expect(existsSync(join(dir, 'mosaic-budget.lock'))).toBe(false);
      // The lock is free again: a new process (here, this one) may open the directory.
      const reopened = await openDatabase({ dataDir: dir });
      await reopened.close();
    },
  );
});

describe('with the database down', () => {
  it('the gate fails closed: 503 problem+json with Retry-After, never a 500', async () => {
    // Port 1 on loopback refuses connections at once.
    const database = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' });
    const app = await buildApp({
      database,
      background: false,
      localPrincipal: { tenantId: 'default', scopes: ['admin'] },
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/gate',
        payload: {
          taskId: 't',
          taskClass: 'feature',
          model: 'm',
          estimate: { usd: '1' },
          agent: 'a',
          host: 'h',
        },
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.json()).toMatchObject({ code: 'BUDGET_ERR_DATABASE_UNAVAILABLE' });
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await database.close();
    }
  });
});
