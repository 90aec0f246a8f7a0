import { expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { describeOnBackends, type TenantClient, type TestEnv } from '../test-support/backends.js';
import { spend, subscriptionAccount } from '../test-support/fixtures.js';
import { usageSignalCount } from '../test-support/rows.js';

// Test 9 of the reliability issue: signals out of order, duplicated, from a host whose clock runs
// ten minutes ahead; a window across a DST change and across its own reset; a reset the provider
// moves. The service reads the real clock, so every instant here is relative to now.

const MINUTE = 60_000;
const DAY = 86_400_000;
const at = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString();
const msOf = (v: Date | string): number => (v instanceof Date ? v.getTime() : Date.parse(v));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  usage: string;
  reset?: { kept: string; rule: string };
  clamped?: { sent: string; clampedTo: string };
}

async function signal(
  t: TenantClient,
  usedPercent: string,
  observedAt: string,
  extra: Record<string, unknown> = {},
): Promise<Outcome> {
  const res = await t.request({
    method: 'POST',
    url: '/v1/usage-signals',
    payload: { signals: [{ account: 'acct-sub', window: 'weekly', usedPercent, observedAt, ...extra }] },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ outcomes: Outcome[] }>().outcomes[0]!;
}

interface PaceWindow {
  usedPercent: string;
  resetAt: string;
  resetConfidence: string;
}

async function weekly(t: TenantClient): Promise<PaceWindow> {
  const res = await t.request({ url: '/v1/pace' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ accounts: { windows: PaceWindow[] }[] }>().accounts[0]!.windows[0]!;
}

async function withAccount(env: TestEnv): Promise<TenantClient> {
  const t = await env.tenant();
  const res = await t.request({
    method: 'PUT',
    url: '/v1/accounts/acct-sub',
    payload: subscriptionAccount(),
  });
  expect(res.statusCode, res.body).toBe(201);
  return t;
}

async function windowRow(env: TestEnv, t: TenantClient) {
  return env.database.db
    .selectFrom('fleet.window_state')
    .select(['used_percent', 'observed_at', 'unsignaled_usd'])
    .where('tenant_id', '=', t.tenant)
    .where('account_id', '=', 'acct-sub')
    .where('window_name', '=', 'weekly')
    .executeTakeFirstOrThrow();
}

describeOnBackends('time (reliability test 9)', (env) => {
  it('keeps the newest reading whatever order and however often signals arrive', async () => {
    const t = await withAccount(env());
    const newest = at(-2 * MINUTE);
    expect((await signal(t, '30', newest)).usage).toBe('applied');
    expect((await signal(t, '20', at(-5 * MINUTE))).usage).toBe('stale'); // an older reading, late
    expect((await signal(t, '30', newest)).usage).toBe('stale'); // the same reading again
    expect((await weekly(t)).usedPercent).toBe('30');
    // The audit trail keeps every arrival; the window state holds the newest reading's instant.
    expect(await usageSignalCount(env(), t.tenant)).toBe(3);
    expect(msOf((await windowRow(env(), t)).observed_at)).toBe(Date.parse(newest));
  });

  it('a host ten minutes ahead cannot hold the window against the true readings that follow', async () => {
    const t = await withAccount(env());
    const skewedAt = at(10 * MINUTE);
    const before = Date.now();
    const skewed = await signal(t, '25', skewedAt);
    expect(skewed.usage).toBe('applied');
    // The answer says the clock was not believed, and which clock was used instead.
    expect(skewed.clamped?.sent).toBe(new Date(skewedAt).toISOString());
    const clampedTo = Date.parse(skewed.clamped!.clampedTo);
    expect(clampedTo).toBeGreaterThanOrEqual(before - 5_000);
    expect(clampedTo).toBeLessThan(Date.parse(skewedAt));
    const row = await windowRow(env(), t);
    expect(msOf(row.observed_at)).toBe(clampedTo);

    // Spend after the skewed reading counts as not yet signalled (before the fix it fell before the
    // held instant and was ignored for ten minutes).
    await sleep(20);
    const spent = await t.request({
      method: 'POST',
      url: '/v1/spend',
      payload: {
        records: [
          spend('t9-skew', '0.50', { account: 'acct-sub', model: 'claude-opus-4', occurredAt: at(0) }),
        ],
      },
    });
    expect(spent.statusCode, spent.body).toBe(200);
    expect(Number((await windowRow(env(), t)).unsignaled_usd)).toBe(0.5);

    // The skewed host retries the same reading: it is recognised and does not wipe that spend.
    const retry = await signal(t, '25', skewedAt);
    expect(retry.usage).toBe('stale');
    expect(retry.clamped).toBeDefined();
    expect(Number((await windowRow(env(), t)).unsignaled_usd)).toBe(0.5);

    // A correct host reports a later reading a moment after; it wins.
    await sleep(20);
    const next = await signal(t, '27', at(0));
    expect(next.usage).toBe('applied');
    expect(next.clamped).toBeUndefined();
    expect((await weekly(t)).usedPercent).toBe('27');
  });

  it('a clamped reading stays counted while a reset more than a window length ahead is held', async () => {
    // What broke the CLI's status when the clamp first landed: the period of such a reset starts
    // at now, and a reading clamped to the moment it arrived fell out of it a moment later.
    const t = await withAccount(env());
    const reset = await t.request({
      method: 'PUT',
      url: '/v1/accounts/acct-sub/reset',
      payload: { window: 'weekly', resetAt: at(10 * DAY), confidence: 'user' },
    });
    expect(reset.statusCode, reset.body).toBe(200);
    expect((await signal(t, '42', at(6 * 60 * MINUTE))).clamped).toBeDefined();
    await sleep(1_100);
    expect((await weekly(t)).usedPercent).toBe('42');
  });

  it('follows the provider when it moves its own reset, and never lets it override a user reset', async () => {
    const t = await withAccount(env());
    const first = at(3 * DAY);
    const moved = at(2 * DAY);
    await signal(t, '40', at(-MINUTE), { resetAt: first, confidence: 'provider' });
    const move = await signal(t, '41', at(0), { resetAt: moved, confidence: 'provider' });
    expect(move.reset).toMatchObject({ kept: 'incoming', rule: 'same-confidence-newer' });
    expect(Date.parse((await weekly(t)).resetAt)).toBe(Date.parse(moved));

    await t.request({
      method: 'PUT',
      url: '/v1/accounts/acct-sub/reset',
      payload: { window: 'weekly', resetAt: first, confidence: 'user' },
    });
    await sleep(20);
    const again = await signal(t, '42', at(0), { resetAt: moved, confidence: 'provider' });
    expect(again.reset).toMatchObject({ kept: 'held', rule: 'lower-confidence' });
    expect(Date.parse((await weekly(t)).resetAt)).toBe(Date.parse(first));
  });

  it('a window that passes its own reset starts its next period empty, and the next reading counts', async () => {
    const t = await withAccount(env());
    const resetAt = at(1_500);
    await signal(t, '80', at(0), { resetAt, confidence: 'provider' });
    expect((await weekly(t)).usedPercent).toBe('80');
    await sleep(2_000);
    const after = await weekly(t);
    // The 80% belongs to the period that ended; the schedule recurs one week later, now estimated.
    expect(after.usedPercent).toBe('0');
    expect(after.resetConfidence).toBe('estimated');
    expect(Date.parse(after.resetAt)).toBe(
      DateTime.fromISO(resetAt).setZone('America/Chicago').plus({ weeks: 1 }).toMillis(),
    );
    expect((await signal(t, '3', at(0))).usage).toBe('applied');
    expect((await weekly(t)).usedPercent).toBe('3');
  });

  it('a weekly reset anchored on either side of a DST change recurs at 17:00 local', async () => {
    // Friday 17:00 America/Chicago in January (CST, UTC−6) and in July (CDT, UTC−5): whatever the
    // date the test runs, one of the two anchors lies across a DST change from now.
    const expected: number[] = [];
    for (const anchor of ['2026-01-02T17:00:00-06:00', '2026-07-03T17:00:00-05:00']) {
      const t = await withAccount(env());
      await signal(t, '10', at(0), { resetAt: anchor, confidence: 'provider' });
      const w = await weekly(t);
      const local = DateTime.fromISO(w.resetAt).setZone('America/Chicago');
      expect(local.weekday).toBe(5);
      expect([local.hour, local.minute, local.second]).toEqual([17, 0, 0]);
      expect(local.toMillis()).toBeGreaterThan(Date.now());
      expect(local.toMillis()).toBeLessThanOrEqual(Date.now() + 7 * DAY + 3_600_000);
      // The reading arrived inside the period the schedule rolled to, so it counts.
      expect(w.usedPercent).toBe('10');
      expected.push(local.toMillis());
    }
    expect(expected[0]).toBe(expected[1]);
  });
});
