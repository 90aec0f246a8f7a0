import { expect, it } from 'vitest';
import { describeOnBackends, type TenantClient } from '../test-support/backends.js';
import { subscriptionAccount } from '../test-support/fixtures.js';

// Test 9 of the reliability issue: signals out of order, duplicated, from a host whose clock runs
// ten minutes ahead, and a reset the provider moves. Out-of-order batches are also covered by the
// register suite; DST and a window crossing its own reset are core properties (window-schedule).

const MINUTE = 60_000;
const at = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString();

async function signal(
  t: TenantClient,
  usedPercent: string,
  observedAt: string,
  extra: Record<string, unknown> = {},
): Promise<{ usage: string; reset?: { kept: string; rule: string } }> {
  const res = await t.request({
    method: 'POST',
    url: '/v1/usage-signals',
    payload: { signals: [{ account: 'acct-sub', window: 'weekly', usedPercent, observedAt, ...extra }] },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ outcomes: { usage: string; reset?: { kept: string; rule: string } }[] }>().outcomes[0]!;
}

async function weekly(t: TenantClient): Promise<{ usedPercent: string; resetAt?: string }> {
  const pace = (await t.request({ url: '/v1/pace' })).json<{
    accounts: { windows: { usedPercent: string; resetAt?: string }[] }[];
  }>();
  return pace.accounts[0]!.windows[0]!;
}

describeOnBackends('time (reliability test 9)', (env) => {
  it('keeps the newest reading whatever order and however often signals arrive', async () => {
    const t = await env().tenant();
    await t.request({ method: 'PUT', url: '/v1/accounts/acct-sub', payload: subscriptionAccount() });
    await signal(t, '30', at(-2 * MINUTE));
    await signal(t, '20', at(-5 * MINUTE)); // late arrival of an older reading
    await signal(t, '30', at(-2 * MINUTE)); // the same reading again
    expect((await weekly(t)).usedPercent).toBe('30');
  });

  it('a host ten minutes ahead cannot hold the window against the true readings that follow', async () => {
    const t = await env().tenant();
    await t.request({ method: 'PUT', url: '/v1/accounts/acct-sub', payload: subscriptionAccount() });
    await signal(t, '25', at(10 * MINUTE)); // the skewed host
    // A correct host reports a later reading a moment after; it must win.
    await new Promise((r) => setTimeout(r, 50));
    const next = await signal(t, '27', at(0));
    expect(next.usage).toBe('applied');
    expect((await weekly(t)).usedPercent).toBe('27');
  });

  it('follows the provider when it moves its own reset, and never lets it override a user reset', async () => {
    const t = await env().tenant();
    await t.request({ method: 'PUT', url: '/v1/accounts/acct-sub', payload: subscriptionAccount() });
    const first = at(3 * 86_400_000);
    const moved = at(2 * 86_400_000);
    await signal(t, '40', at(-MINUTE), { resetAt: first, confidence: 'provider' });
    await signal(t, '41', at(0), { resetAt: moved, confidence: 'provider' });
    expect(Date.parse((await weekly(t)).resetAt!)).toBe(Date.parse(moved));

    await t.request({
      method: 'PUT',
      url: '/v1/accounts/acct-sub/reset',
      payload: { window: 'weekly', resetAt: first, confidence: 'user' },
    });
    const again = await signal(t, '42', at(MINUTE / 2), { resetAt: moved, confidence: 'provider' });
    expect(again.reset).toMatchObject({ kept: 'held' });
    expect(Date.parse((await weekly(t)).resetAt!)).toBe(Date.parse(first));
  });
});
