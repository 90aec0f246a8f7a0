import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { apiAccount } from '../test-support/fixtures.js';
import { relDatabase, RUN_POSTGRES, type RelDatabase } from './support/postgres.js';
import { ensureApiBuilt, newToken, startReplica, stopAll, type Replica } from './support/replicas.js';
import { call, gateBody } from './support/http.js';
import { until } from './support/rng.js';

// Test 4: queued requests, pending reservations and their expiries survive a restart of the service,
// and the queue is admitted afterwards in the same order (urgency, then age).
describe.skipIf(!RUN_POSTGRES)('service restart [postgres, process]', () => {
  let rel: RelDatabase | undefined;
  const token = newToken();

  beforeAll(async () => {
    await ensureApiBuilt();
    rel = await relDatabase('restart_svc');
  }, 300_000);
  afterAll(async () => {
    await stopAll();
    await rel?.drop();
  });

  it('keeps reservations with their expiries and the queue in order across a restart', async () => {
    const db = rel!.database.db;
    let service: Replica = await startReplica({ databaseUrl: rel!.url, token });
    expect(
      (await call(service.url, token, 'PUT', '/v1/accounts/acct-api', apiAccount('acct-api', '1.00'))).status,
    ).toBe(201);
    const hold = await call(service.url, token, 'POST', '/v1/gate', gateBody('hold', '0.90'));
    expect(hold.json.decision).toBe('allow');
    const order = [
      { task: 'q-low', urgency: 'low' },
      { task: 'q-normal-1', urgency: 'normal' },
      { task: 'q-high', urgency: 'high' },
      { task: 'q-normal-2', urgency: 'normal' },
    ];
    for (const q of order) {
      const a = await call(
        service.url,
        token,
        'POST',
        '/v1/gate',
        gateBody(q.task, '0.50', { urgency: q.urgency }),
      );
      expect(a.json.decision, JSON.stringify(a.json)).toBe('queue');
    }
    const before = await call(service.url, token, 'GET', '/v1/queue');
    await service.stop();
    service = await startReplica({ databaseUrl: rel!.url, token });

    // The same reservation, with the same expiry, and the same waiting list in the same order.
    const replay = await call(service.url, token, 'POST', '/v1/gate', gateBody('hold', '0.90'));
    expect(replay.json).toMatchObject({
      reservationId: hold.json.reservationId,
      expiresAt: hold.json.expiresAt,
      replayed: true,
    });
    const after = await call(service.url, token, 'GET', '/v1/queue');
    const ids = (b: Record<string, unknown>) =>
      (b.accounts as { waiting: { taskId: string }[] }[]).flatMap((a) => a.waiting.map((w) => w.taskId));
    expect(ids(after.json)).toEqual(ids(before.json));
    expect(ids(after.json)).toEqual(['q-high', 'q-normal-1', 'q-normal-2', 'q-low']);

    // Admission after the restart follows that order: free the room one slot at a time.
    const admitted: string[] = [];
    let release = String(hold.json.reservationId);
    for (let k = 0; k < 4; k++) {
      expect((await call(service.url, token, 'POST', `/v1/reservations/${release}/release`)).status).toBe(
        200,
      );
      let next: { task_id: string; reservation_id: string } | undefined;
      expect(
        await until(
          async () => {
            const rows = await sql<{ task_id: string; reservation_id: string }>`
            select task_id, reservation_id from fleet.queue_entries where status = 'admitted' order by updated_at`.execute(
              db,
            );
            next = rows.rows.find((r) => !admitted.includes(r.task_id));
            return next !== undefined;
          },
          30_000,
          100,
        ),
      ).toBe(true);
      admitted.push(next!.task_id);
      release = next!.reservation_id;
    }
    expect(admitted).toEqual(['q-high', 'q-normal-1', 'q-normal-2', 'q-low']);
  }, 600_000);
});
