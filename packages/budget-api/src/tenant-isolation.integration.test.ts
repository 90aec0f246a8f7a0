import { expect, it } from 'vitest';
import fc from 'fast-check';
import { describeOnBackends, type TenantClient } from './test-support/backends.js';
import { apiAccount, spend } from './test-support/fixtures.js';

// Few runs: each builds two tenants' worth of rows on a real database.
const RUNS = 8;

// Every read route a tenant can call; none may ever show the other tenant's marker.
const READS = [
  '/v1/accounts',
  '/v1/ledger',
  '/v1/policy',
  '/v1/authorizations',
  '/v1/pace',
  '/v1/queue',
  '/v1/reports/spend.md',
];

async function populate(
  t: TenantClient,
  account: string,
  marker: string,
): Promise<{ reservationId?: string; queueId?: string }> {
  await t.request({ method: 'PUT', url: `/v1/accounts/${account}`, payload: apiAccount(account, '1.00') });
  await t.request({
    method: 'POST',
    url: '/v1/spend',
    payload: { records: [spend(`${marker}-k`, '0.25', { account, mission: marker, task: marker })] },
  });
  await t.request({ method: 'PUT', url: '/v1/policy', payload: { ladder: [`model-${marker}`] } });
  await t.request({
    method: 'POST',
    url: '/v1/authorizations',
    payload: {
      id: `auth-${marker}`,
      kind: 'rapid',
      multiplier: '2',
      from: '2026-01-01T00:00:00Z',
      until: '2026-01-02T00:00:00Z',
      reason: marker,
      createdBy: marker,
    },
  });
  const gate = (taskId: string, usd: string) =>
    t.request({
      method: 'POST',
      url: '/v1/gate',
      payload: {
        taskId,
        taskClass: 'feature',
        model: 'claude-sonnet-4',
        estimate: { usd },
        agent: 'a',
        host: 'h',
        mission: marker,
      },
    });
  const admitted = (await gate(`${marker}-t1`, '0.5')).json<{ reservationId?: string }>();
  const queued = (await gate(`${marker}-t2`, '0.5')).json<{ queueId?: string }>();
  return { reservationId: admitted.reservationId, queueId: queued.queueId };
}

describeOnBackends('tenant isolation', (env) => {
  it('a token never sees or changes another tenant’s rows, whatever the ids the tenants choose', async () => {
    const ident = fc.stringMatching(/^[a-z][a-z0-9-]{2,12}$/);
    await fc.assert(
      fc.asyncProperty(ident, ident, fc.boolean(), async (accountA, suffix, sameAccountId) => {
        const a = await env().tenant();
        const b = await env().tenant();
        const markerA = `mk${suffix}a${a.tenant.slice(2)}`;
        const accountB = sameAccountId ? accountA : `${accountA}-b`;
        const heldA = await populate(a, accountA, markerA);
        await populate(b, accountB, `mk${suffix}b${b.tenant.slice(2)}`);

        for (const url of READS) {
          const res = await b.request({ url });
          expect(res.statusCode, url).toBe(200);
          expect(res.body, url).not.toContain(markerA);
          expect(res.body, url).not.toContain(a.tenant);
        }
        if (heldA.reservationId) {
          for (const action of ['commit', 'release']) {
            const res = await b.request({
              method: 'POST',
              url: `/v1/reservations/${heldA.reservationId}/${action}`,
              ...(action === 'commit' ? { payload: { actual: { usd: '0.1' } } } : {}),
            });
            expect(res.statusCode).toBe(404);
          }
        }
        if (heldA.queueId)
          expect((await b.request({ url: `/v1/queue/${heldA.queueId}` })).statusCode).toBe(404);
        expect(
          (await b.request({ method: 'DELETE', url: `/v1/authorizations/auth-${markerA}` })).statusCode,
        ).toBe(404);
        // A's rows are intact after B's attempts.
        const ledgerA = (await a.request({ url: '/v1/ledger' })).json<{ entries: unknown[] }>();
        expect(ledgerA.entries).toHaveLength(1);
        const authA = (await a.request({ url: '/v1/authorizations' })).json<{
          authorizations: { revokedAt?: string }[];
        }>();
        expect(authA.authorizations[0]?.revokedAt).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });
});
