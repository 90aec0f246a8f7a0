import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeOnBackends, type TenantClient } from './test-support/backends.js';
import { apiAccount } from './test-support/fixtures.js';

interface Answer {
  decision: string;
  account?: string;
  model?: string;
  reservationId?: string;
  queueId?: string;
  retryAt?: string;
  expiresAt?: string;
  reason: string;
  trace: unknown[];
  replayed?: boolean;
}

function gateBody(taskId: string, usd: string, extra: Record<string, unknown> = {}) {
  return {
    taskId,
    taskClass: 'feature',
    model: 'claude-sonnet-4',
    estimate: { usd },
    agent: 'claude-code',
    host: 'host-1',
    mission: 'm-1',
    ...extra,
  };
}

async function setup(t: TenantClient, ceiling = '10.00'): Promise<void> {
  const put = await t.request({
    method: 'PUT',
    url: '/v1/accounts/acct-api',
    payload: apiAccount('acct-api', ceiling),
  });
  expect(put.statusCode).toBe(201);
}

async function ask(t: TenantClient, body: unknown): Promise<Answer> {
  const res = await t.request({ method: 'POST', url: '/v1/gate', payload: body as Record<string, unknown> });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Answer>();
}

describeOnBackends('the dispatch gate', (env) => {
  it('reserves on allow, returns the same reservation for a retried taskId, and commits idempotently', async () => {
    const t = await env().tenant();
    await setup(t);
    const first = await ask(t, gateBody('task-1', '4'));
    expect(first.decision).toBe('allow');
    expect(first.reservationId).toBeDefined();
    expect(first.trace.length).toBeGreaterThan(0);
    const retry = await ask(t, gateBody('task-1', '4'));
    expect(retry).toMatchObject({ reservationId: first.reservationId, replayed: true });

    const commit = await t.request({
      method: 'POST',
      url: `/v1/reservations/${first.reservationId}/commit`,
      payload: { actual: { inputTokens: 1000, outputTokens: 100, usd: '3.25' } },
    });
    expect(commit.statusCode, commit.body).toBe(200);
    expect(commit.json()).toMatchObject({ status: 'committed', usd: '3.25', late: false, replayed: false });
    const again = await t.request({
      method: 'POST',
      url: `/v1/reservations/${first.reservationId}/commit`,
      payload: { actual: { inputTokens: 1000, outputTokens: 100, usd: '3.25' } },
    });
    expect(again.json()).toMatchObject({ usd: '3.25', replayed: true });

    const pace = (await t.request({ url: '/v1/pace' })).json<{
      accounts: { inflight: number; ceilingPeriod: { committedUsd: string; reservedUsd: string } }[];
    }>();
    expect(pace.accounts[0]).toMatchObject({
      inflight: 0,
      ceilingPeriod: { committedUsd: '3.25', reservedUsd: '0' },
    });
    const ledger = (await t.request({ url: '/v1/ledger' })).json<{
      entries: { usd: string; task: string; reservationId: string }[];
    }>();
    expect(ledger.entries).toEqual([
      expect.objectContaining({ usd: '3.25', task: 'task-1', reservationId: first.reservationId }),
    ]);
  });

  it('never reserves past the ceiling: what does not fit is queued, and admitted when a release frees room', async () => {
    const t = await env().tenant();
    await setup(t);
    const a = await ask(t, gateBody('a', '4'));
    const b = await ask(t, gateBody('b', '4'));
    expect([a.decision, b.decision]).toEqual(['allow', 'allow']);
    const c = await ask(t, gateBody('c', '4'));
    expect(c.decision).toBe('queue');
    expect(c.reservationId).toBeUndefined();
    if (c.decision === 'queue') {
      expect(c.queueId).toBeDefined();
      const same = await ask(t, gateBody('c', '4'));
      expect(same).toMatchObject({ decision: 'queue', queueId: c.queueId, replayed: true });
      const list = (await t.request({ url: '/v1/queue' })).json<{
        accounts: { account: string; waiting: unknown[] }[];
      }>();
      expect(list.accounts[0]?.waiting).toHaveLength(1);

      const rel = await t.request({ method: 'POST', url: `/v1/reservations/${a.reservationId}/release` });
      expect(rel.json()).toMatchObject({ status: 'released' });
      await env().app.gate.settled();
      const entry = (await t.request({ url: `/v1/queue/${c.queueId}?wait=5` })).json<{
        status: string;
        reservationId?: string;
      }>();
      expect(entry.status).toBe('admitted');
      expect(entry.reservationId).toBeDefined();
    }
    const rel2 = await t.request({ method: 'POST', url: `/v1/reservations/${b.reservationId}/release` });
    expect(rel2.json()).toMatchObject({ status: 'released' });
    const rel3 = await t.request({ method: 'POST', url: `/v1/reservations/${b.reservationId}/release` });
    expect(rel3.json()).toMatchObject({ status: 'released' });
  });

  it('expires a forgotten reservation on the database clock, and a late commit is still recorded and marked late', async () => {
    const t = await env().tenant();
    await setup(t);
    const a = await ask(t, gateBody('late-1', '2'));
    expect(a.decision).toBe('allow');
    const { db } = env().database;
    await db
      .updateTable('fleet.reservations')
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', a.reservationId ?? '')
      .execute();
    await env().app.gate.sweep();
    const pace = (await t.request({ url: '/v1/pace' })).json<{
      accounts: { inflight: number; ceilingPeriod: { reservedUsd: string } }[];
    }>();
    expect(pace.accounts[0]).toMatchObject({ inflight: 0, ceilingPeriod: { reservedUsd: '0' } });
    const commit = await t.request({
      method: 'POST',
      url: `/v1/reservations/${a.reservationId}/commit`,
      payload: { actual: { inputTokens: 10, outputTokens: 10, usd: '1.5' } },
    });
    expect(commit.json()).toMatchObject({ status: 'committed', late: true });
    const ledger = (await t.request({ url: '/v1/ledger' })).json<{
      entries: { usd: string; late: boolean }[];
    }>();
    expect(ledger.entries).toEqual([expect.objectContaining({ usd: '1.5', late: true })]);
  });

  it('prices a commit from the price table when it carries no USD, a dated snapshot as its model', async () => {
    const t = await env().tenant();
    const dated = 'claude-sonnet-4-20250514';
    const put = await t.request({
      method: 'PUT',
      url: '/v1/accounts/acct-api',
      payload: { ...apiAccount('acct-api', '10.00'), models: ['claude-sonnet-4', dated, 'house-model'] },
    });
    expect(put.statusCode, put.body).toBe(201);
    const commit = async (id: string | undefined, actual: Record<string, unknown>) =>
      t.request({ method: 'POST', url: `/v1/reservations/${id}/commit`, payload: { actual } });
    const million = { inputTokens: 1_000_000, outputTokens: 0 };
    // Sonnet's input price is $3 per million tokens, under its own name and its dated snapshot's.
    const asked: [task: string, model: string][] = [
      ['priced', 'claude-sonnet-4'],
      ['priced-dated', dated],
    ];
    for (const [task, model] of asked) {
      const a = await ask(t, gateBody(task, '1', { model }));
      const c = await commit(a.reservationId, million);
      expect(c.statusCode, c.body).toBe(200);
      expect(c.json<{ usd: string }>().usd).toBe('3');
    }
    // A model no table knows: the commit is refused with the way out, and the reservation stays
    // live, so the same commit with its USD still lands.
    const unknown = await ask(t, gateBody('priced-unknown', '1', { model: 'house-model' }));
    const refused = await commit(unknown.reservationId, million);
    expect(refused.statusCode).toBe(422);
    const problem = refused.json<{ code: string; detail: string }>();
    expect(problem.code).toBe('BUDGET_ERR_NO_PRICE');
    expect(problem.detail).toContain('send actual.usd');
    const paid = await commit(unknown.reservationId, { ...million, usd: '2.5' });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(paid.json()).toMatchObject({ usd: '2.5', replayed: false });
  });

  it('answers concurrent requests for one taskId with one reservation', async () => {
    const t = await env().tenant();
    await setup(t);
    const answers = await Promise.all(Array.from({ length: 6 }, () => ask(t, gateBody('same-task', '1'))));
    const ids = new Set(answers.map((a) => a.reservationId));
    expect(ids.size).toBe(1);
    const live = await env()
      .database.db.selectFrom('fleet.reservations')
      .select('id')
      .where('tenant_id', '=', t.tenant)
      .where('status', '=', 'live')
      .execute();
    expect(live).toHaveLength(1);
  });

  it('admits queued work by urgency, then age', async () => {
    const t = await env().tenant();
    await setup(t, '5.00');
    const holder = await ask(t, gateBody('holder', '4'));
    expect(holder.decision).toBe('allow');
    const low = await ask(t, gateBody('low-first', '3', { urgency: 'low' }));
    const high = await ask(t, gateBody('high-later', '3', { urgency: 'high' }));
    expect([low.decision, high.decision]).toEqual(['queue', 'queue']);
    await t.request({ method: 'POST', url: `/v1/reservations/${holder.reservationId}/release` });
    await env().app.gate.settled();
    const [lowEntry, highEntry] = await Promise.all([
      t.request({ url: `/v1/queue/${low.queueId}` }).then((r) => r.json<{ status: string }>()),
      t.request({ url: `/v1/queue/${high.queueId}` }).then((r) => r.json<{ status: string }>()),
    ]);
    expect(highEntry.status).toBe('admitted');
    expect(lowEntry.status).toBe('waiting');
  });

  it('keeps every decision in the audit table with its trace', async () => {
    const t = await env().tenant();
    await setup(t, '1.00');
    await ask(t, gateBody('audited', '5'));
    const rows = await env()
      .database.db.selectFrom('fleet.gate_decisions')
      .selectAll()
      .where('tenant_id', '=', t.tenant)
      .execute();
    expect(rows).toHaveLength(1);
    expect(Array.isArray(rows[0]?.trace)).toBe(true);

    // The same decision, read back for that task alone, carries its trace; another task's does not leak in.
    await ask(t, gateBody('other', '5'));
    const res = await t.request({ method: 'GET', url: '/v1/decisions?task=audited' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ decisions: { taskId: string; trace?: { rule: string }[] }[] }>();
    expect(body.decisions.map((d) => d.taskId)).toEqual(['audited']);
    expect(body.decisions[0]?.trace?.length).toBeGreaterThan(0);
  });

  it("answers a release of an unknown reservation, or of another tenant's, with 404 and of a committed one with 409", async () => {
    const t = await env().tenant();
    await setup(t);
    const a = await ask(t, gateBody('rel-404-409', '1'));
    expect(a.decision).toBe('allow');
    const other = await env().tenant();
    const foreign = await other.request({
      method: 'POST',
      url: `/v1/reservations/${a.reservationId}/release`,
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toMatchObject({ code: 'BUDGET_ERR_NOT_FOUND' });
    const unknown = await t.request({ method: 'POST', url: '/v1/reservations/nope/release' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'BUDGET_ERR_NOT_FOUND' });
    const commit = await t.request({
      method: 'POST',
      url: `/v1/reservations/${a.reservationId}/commit`,
      payload: { actual: { inputTokens: 10, outputTokens: 10, usd: '0.5' } },
    });
    expect(commit.statusCode).toBe(200);
    const late = await t.request({ method: 'POST', url: `/v1/reservations/${a.reservationId}/release` });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'BUDGET_ERR_RESERVATION_STATE' });
  });

  it('answers a commit of an unknown reservation with 404 and a malformed gate request with 400', async () => {
    const t = await env().tenant();
    const missing = await t.request({
      method: 'POST',
      url: '/v1/reservations/nope/commit',
      payload: { actual: {} },
    });
    expect(missing.statusCode).toBe(404);
    const bad = await t.request({ method: 'POST', url: '/v1/gate', payload: { taskId: 'x' } });
    expect(bad.statusCode).toBe(400);
  });
});
