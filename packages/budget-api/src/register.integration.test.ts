import { expect, it } from 'vitest';
import { describeOnBackends } from './test-support/backends.js';
import { apiAccount, spend, subscriptionAccount } from './test-support/fixtures.js';

describeOnBackends('the register', (env) => {
  it('answers health, readiness and the OpenAPI document without a token', async () => {
    const { app } = env();
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    const doc = (await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/spend', '/v1/accounts/{id}', '/v1/ledger']),
    );
  });

  it('refuses a missing or unknown token with 401 and a missing scope with 403, as problem documents', async () => {
    const { app } = env();
    const none = await app.inject({ url: '/v1/accounts' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect(none.json()).toMatchObject({ code: 'BUDGET_ERR_UNAUTHENTICATED', status: 401 });
    const bad = await app.inject({ url: '/v1/accounts', headers: { authorization: 'Bearer nope' } });
    expect(bad.statusCode).toBe(401);
    const reader = await env().tenant(['read']);
    const put = await reader.request({ method: 'PUT', url: '/v1/accounts/a', payload: apiAccount('a') });
    expect(put.statusCode).toBe(403);
    expect(put.json()).toMatchObject({ code: 'BUDGET_ERR_FORBIDDEN' });
  });

  it('creates, replaces and lists accounts with their windows', async () => {
    const t = await env().tenant();
    const created = await t.request({
      method: 'PUT',
      url: '/v1/accounts/acct-sub',
      payload: subscriptionAccount(),
    });
    expect(created.statusCode).toBe(201);
    const replaced = await t.request({
      method: 'PUT',
      url: '/v1/accounts/acct-sub',
      payload: { ...subscriptionAccount(), concurrency: 3 },
    });
    expect(replaced.statusCode).toBe(200);
    const list = (await t.request({ url: '/v1/accounts' })).json<{
      accounts: { id: string; windows: unknown[]; concurrency: number }[];
    }>();
    expect(list.accounts).toHaveLength(1);
    expect(list.accounts[0]).toMatchObject({
      id: 'acct-sub',
      concurrency: 3,
      windows: [{ name: 'weekly', length: 'P7D', rolling: false }],
    });
  });

  it('appends spend all-or-nothing: replays are duplicates, a reused key with other content is 422 and writes nothing', async () => {
    const t = await env().tenant();
    await t.request({ method: 'PUT', url: '/v1/accounts/acct-api', payload: apiAccount() });
    const first = await t.request({
      method: 'POST',
      url: '/v1/spend',
      payload: { records: [spend('k1', '1.50'), spend('k2', '2.25')] },
    });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ inserted: 2, duplicates: [] });

    const replay = await t.request({
      method: 'POST',
      url: '/v1/spend',
      payload: { records: [spend('k1', '1.5'), spend('k3', '1')] },
    });
    // The replayed record differs only in how its decimal is written: same content.
    expect(replay.json()).toEqual({ inserted: 1, duplicates: ['k1'] });

    const conflict = await t.request({
      method: 'POST',
      url: '/v1/spend',
      payload: { records: [spend('k4', '9'), spend('k2', '2.26')] },
    });
    expect(conflict.statusCode).toBe(422);
    expect(conflict.json()).toMatchObject({ code: 'BUDGET_ERR_IDEMPOTENCY_CONFLICT' });

    const unknown = await t.request({
      method: 'POST',
      url: '/v1/spend',
      payload: { records: [spend('k5', '1', { account: 'ghost' })] },
    });
    expect(unknown.statusCode).toBe(422);

    const ledger = (await t.request({ url: '/v1/ledger' })).json<{
      entries: { idempotencyKey: string; usd: string }[];
    }>();
    expect(ledger.entries.map((e) => e.idempotencyKey).sort()).toEqual(['k1', 'k2', 'k3']);
    const pace = (await t.request({ url: '/v1/pace' })).json<{
      accounts: { ceilingPeriod: { committedUsd: string } }[];
    }>();
    expect(pace.accounts[0]?.ceilingPeriod.committedUsd).toBe('4.75');
  });

  it('pages the ledger newest first with a cursor and filters by mission', async () => {
    const t = await env().tenant();
    await t.request({ method: 'PUT', url: '/v1/accounts/acct-api', payload: apiAccount() });
    const records = Array.from({ length: 7 }, (_, i) =>
      spend(`p${i}`, '0.1', {
        occurredAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
        mission: i % 2 ? 'odd' : 'even',
      }),
    );
    await t.request({ method: 'POST', url: '/v1/spend', payload: { records } });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await t.request({ url: `/v1/ledger?limit=3${cursor ? `&cursor=${cursor}` : ''}` })).json<{
        entries: { idempotencyKey: string }[];
        nextCursor?: string;
      }>();
      seen.push(...page.entries.map((e) => e.idempotencyKey));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0']);
    const odd = (await t.request({ url: '/v1/ledger?mission=odd' })).json<{ entries: unknown[] }>();
    expect(odd.entries).toHaveLength(3);
    const md = await t.request({ url: '/v1/reports/spend.md?mission=even' });
    expect(md.headers['content-type']).toContain('text/markdown');
    expect(md.body).toContain('## Mission even');
    expect(md.body).toContain('**0.4**');
  });

  it('keeps the newest usage signal and the most trusted reset', async () => {
    const t = await env().tenant();
    await t.request({ method: 'PUT', url: '/v1/accounts/acct-sub', payload: subscriptionAccount() });
    const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const now = new Date().toISOString();
    const older = new Date(Date.now() - 3_600_000).toISOString();
    await t.request({
      method: 'POST',
      url: '/v1/usage-signals',
      payload: {
        signals: [
          {
            account: 'acct-sub',
            window: 'weekly',
            usedPercent: '40',
            observedAt: now,
            resetAt: future(3),
            confidence: 'user',
          },
        ],
      },
    });
    const res = await t.request({
      method: 'POST',
      url: '/v1/usage-signals',
      payload: {
        signals: [
          {
            account: 'acct-sub',
            window: 'weekly',
            usedPercent: '10',
            observedAt: older,
            resetAt: future(4),
            confidence: 'provider',
          },
        ],
      },
    });
    expect(res.json()).toMatchObject({
      outcomes: [{ usage: 'stale', reset: { kept: 'held', rule: 'lower-confidence' } }],
    });
    const pace = (await t.request({ url: '/v1/pace' })).json<{
      accounts: { windows: { usedPercent: string; resetConfidence: string }[] }[];
    }>();
    expect(pace.accounts[0]?.windows[0]).toMatchObject({
      usedPercent: '40',
      resetConfidence: 'user',
      status: expect.stringMatching(/^(ahead|behind|on-pace)$/) as unknown,
      targetPerDayPercent: expect.any(String) as unknown,
      idealPercent: expect.any(String) as unknown,
    });
    const unknownWindow = await t.request({
      method: 'POST',
      url: '/v1/usage-signals',
      payload: { signals: [{ account: 'acct-sub', window: 'monthly', usedPercent: '1', observedAt: now }] },
    });
    expect(unknownWindow.statusCode).toBe(422);
    const reset = await t.request({
      method: 'PUT',
      url: '/v1/accounts/acct-sub/reset',
      payload: { window: 'weekly', resetAt: future(2) },
    });
    expect(reset.json()).toMatchObject({ confidence: 'user', kept: 'incoming' });
  });

  it('versions the policy and keeps who changed it', async () => {
    const t = await env().tenant();
    expect((await t.request({ url: '/v1/policy' })).json()).toMatchObject({ version: 0 });
    const v1 = await t.request({
      method: 'PUT',
      url: '/v1/policy',
      payload: { ladder: ['claude-opus-4', 'claude-sonnet-4'] },
    });
    expect(v1.json()).toEqual({ version: 1 });
    const v2 = await t.request({
      method: 'PUT',
      url: '/v1/policy',
      payload: { reservations: { ttl: 'PT10M' } },
    });
    expect(v2.json()).toEqual({ version: 2 });
    const held = (await t.request({ url: '/v1/policy' })).json<{
      version: number;
      policy: unknown;
      history: { createdBy: string }[];
    }>();
    expect(held.version).toBe(2);
    expect(held.policy).toEqual({ reservations: { ttl: 'PT10M' } });
    expect(held.history).toHaveLength(2);
    expect(held.history[0]?.createdBy).toMatch(/^token:/);
    const bad = await t.request({
      method: 'PUT',
      url: '/v1/policy',
      payload: { reservations: { ttl: 'soon' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ issues: unknown[] }>().issues.length).toBeGreaterThan(0);
  });

  it('records, lists and revokes authorizations', async () => {
    const t = await env().tenant();
    const auth = {
      id: 'a-1',
      kind: 'rapid',
      multiplier: '2',
      from: '2026-01-01T00:00:00Z',
      until: '2026-01-02T00:00:00Z',
      reason: 'launch day',
      createdBy: 'ops',
    };
    expect((await t.request({ method: 'POST', url: '/v1/authorizations', payload: auth })).statusCode).toBe(
      201,
    );
    expect((await t.request({ method: 'POST', url: '/v1/authorizations', payload: auth })).statusCode).toBe(
      409,
    );
    expect((await t.request({ method: 'DELETE', url: '/v1/authorizations/a-1' })).statusCode).toBe(200);
    const list = (await t.request({ url: '/v1/authorizations' })).json<{
      authorizations: { id: string; revokedAt?: string }[];
    }>();
    expect(list.authorizations[0]?.revokedAt).toBeDefined();
    expect((await t.request({ method: 'DELETE', url: '/v1/authorizations/a-1' })).statusCode).toBe(404);
  });

  it('answers malformed JSON, wrong types and oversized batches with 4xx problem documents', async () => {
    const t = await env().tenant();
    const malformed = await t.request({
      method: 'POST',
      url: '/v1/spend',
      headers: { 'content-type': 'application/json' },
      payload: '{"records": [',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'BUDGET_ERR_MALFORMED_JSON' });
    const negative = await t.request({
      method: 'POST',
      url: '/v1/spend',
      payload: { records: [spend('n', '1', { inputTokens: -5 })] },
    });
    expect(negative.statusCode).toBe(400);
    expect(negative.json<{ issues: { path: unknown[] }[] }>().issues[0]?.path).toContain('inputTokens');
  });
});
