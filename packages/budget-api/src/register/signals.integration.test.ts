import { expect, it } from 'vitest';
import fc from 'fast-check';
import { describeOnBackends, type TenantClient, type TestEnv } from '../test-support/backends.js';
import { spend, subscriptionAccount } from '../test-support/fixtures.js';
import { usageSignalCount } from '../test-support/rows.js';

// A batch of signals is folded in memory between one locking read and one write (signals.ts). These
// tests hold that fold to the plain meaning: a batch ends where the same signals sent one request at a
// time, oldest first, end — and the race two batches run for a window's first row loses nothing.

const HOUR = 3_600_000;
const WINDOWS = ['weekly', 'session'] as const;

interface Sent {
  window: (typeof WINDOWS)[number];
  usedPercent: string;
  observedAt: string;
  resetAt?: string;
  confidence: 'provider' | 'user' | 'estimated' | 'unknown';
}

async function withAccount(env: TestEnv): Promise<TenantClient> {
  const t = await env.tenant();
  const res = await t.request({
    method: 'PUT',
    url: '/v1/accounts/acct-sub',
    payload: {
      ...subscriptionAccount('acct-sub'),
      timezone: 'UTC',
      windows: [
        { name: 'weekly', length: 'P7D' },
        { name: 'session', length: 'PT5H', rolling: true },
      ],
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return t;
}

async function post(t: TenantClient, signals: Sent[]) {
  const res = await t.request({
    method: 'POST',
    url: '/v1/usage-signals',
    payload: { signals: signals.map((s) => ({ account: 'acct-sub', ...s })) },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ outcomes: unknown[] }>().outcomes;
}

async function windowStates(env: TestEnv, t: TenantClient) {
  const rows = await env.database.db
    .selectFrom('fleet.window_state')
    .select(['window_name', 'used_percent', 'observed_at', 'reset_at', 'reset_confidence', 'unsignaled_usd'])
    .where('tenant_id', '=', t.tenant)
    .orderBy('window_name')
    .execute();
  return rows.map((r) => ({
    ...r,
    used_percent: Number(r.used_percent).toString(),
    unsignaled_usd: Number(r.unsignaled_usd).toString(),
    observed_at: new Date(r.observed_at).toISOString(),
    reset_at: r.reset_at ? new Date(r.reset_at).toISOString() : null,
  }));
}

describeOnBackends('usage signals in batches', (env) => {
  it('folds a batch exactly as the same signals sent one request at a time, oldest first', async () => {
    // Instants on a coarse grid (so equal instants, repeats and ties occur), all in the past: a reading
    // from the future is clamped to each request's own clock, which one batch shares and single
    // requests do not (the clamp has its own tests in reliability test 9).
    const base = Date.now() - 10 * HOUR;
    const sent = fc.record(
      {
        window: fc.constantFrom(...WINDOWS),
        usedPercent: fc.integer({ min: 0, max: 100 }).map(String),
        observedAt: fc.integer({ min: 0, max: 8 }).map((m) => new Date(base + m * HOUR).toISOString()),
        resetAt: fc.integer({ min: 1, max: 6 }).map((d) => new Date(base + d * 24 * HOUR).toISOString()),
        confidence: fc.constantFrom('provider', 'user', 'estimated', 'unknown'),
      },
      { requiredKeys: ['window', 'usedPercent', 'observedAt', 'confidence'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(sent, { minLength: 1, maxLength: 8 }), fc.boolean(), async (batch, warm) => {
        const [one, many] = [await withAccount(env()), await withAccount(env())];
        for (const t of [one, many]) {
          if (!warm) continue;
          // A held window with spend since its reading: a newer reading must zero the unsignaled spend.
          await post(t, [
            {
              window: 'weekly',
              usedPercent: '5',
              observedAt: new Date(base).toISOString(),
              confidence: 'user',
            },
          ]);
          const res = await t.request({
            method: 'POST',
            url: '/v1/spend',
            payload: {
              records: [
                spend('s-1', '0.25', {
                  account: 'acct-sub',
                  occurredAt: new Date(base + HOUR / 2).toISOString(),
                }),
              ],
            },
          });
          expect(res.statusCode, res.body).toBe(200);
        }
        const together = await post(one, batch);
        const ordered = batch
          .map((s, i) => ({ s, i }))
          .sort((a, b) => Date.parse(a.s.observedAt) - Date.parse(b.s.observedAt) || a.i - b.i);
        const apart: unknown[] = [];
        for (const { s } of ordered) apart.push(...(await post(many, [s])));
        expect(together).toEqual(apart);
        expect(await windowStates(env(), one)).toEqual(await windowStates(env(), many));
        expect(await usageSignalCount(env(), one.tenant)).toBe(await usageSignalCount(env(), many.tenant));
      }),
      { numRuns: 12 },
    );
  });

  it('loses no signal when concurrent batches race to create a window', async () => {
    const t = await withAccount(env());
    const newest = new Date(Date.now() - 60_000);
    const readings = Array.from({ length: 12 }, (_, i) => ({
      window: 'session' as const,
      usedPercent: String(10 + i),
      observedAt: new Date(newest.getTime() - (11 - i) * 60_000).toISOString(),
      confidence: 'provider' as const,
    }));
    // Each request also carries a weekly reading, so every batch locks and writes two windows.
    await Promise.all(
      readings.map((s, i) => post(t, [s, { ...s, window: 'weekly', usedPercent: String(50 + i) }])),
    );
    const states = await windowStates(env(), t);
    expect(states.map((s) => [s.window_name, s.used_percent, s.observed_at])).toEqual([
      ['session', '21', newest.toISOString()],
      ['weekly', '61', newest.toISOString()],
    ]);
    expect(await usageSignalCount(env(), t.tenant)).toBe(24);
  });

  it('writes nothing for a batch that names an unknown window, even beside valid signals', async () => {
    const t = await withAccount(env());
    const now = new Date().toISOString();
    const res = await t.request({
      method: 'POST',
      url: '/v1/usage-signals',
      payload: {
        signals: [
          { account: 'acct-sub', window: 'weekly', usedPercent: '3', observedAt: now },
          { account: 'acct-sub', window: 'monthly', usedPercent: '4', observedAt: now },
        ],
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'BUDGET_ERR_UNKNOWN_ACCOUNT' });
    expect(await windowStates(env(), t)).toEqual([]);
    expect(await usageSignalCount(env(), t.tenant)).toBe(0);
  });
});
