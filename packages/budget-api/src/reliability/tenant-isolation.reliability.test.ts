import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { TenantClient } from '../test-support/backends.js';
import { apiAccount, spend } from '../test-support/fixtures.js';
import type { Scope } from '../auth/scopes.js';
import { RUN_POSTGRES } from './support/postgres.js';
import { injectEnv, type InjectEnv } from './support/inject.js';
import { ROUTES, tenantFingerprint, type RouteCase } from './support/routes.js';

// Test 7: no read or write crosses a tenant, and every route enforces its scope.
const SCOPES: Scope[] = ['gate', 'ingest', 'read', 'admin'];

interface Tenant {
  name: string;
  admin: TenantClient;
  byScope: Map<Scope, TenantClient>;
  reservationId: string;
  queueId: string;
  marker: string;
}

function bodyFor(route: RouteCase, victim: Tenant): unknown {
  switch (route.path) {
    case '/v1/spend':
      return {
        records: [{ ...spend(`x-${victim.marker}`, '1.00'), tenantId: victim.name, mission: victim.marker }],
      };
    case '/v1/usage-signals':
      return {
        signals: [
          { account: 'acct-api', window: 'weekly', usedPercent: '5', observedAt: new Date().toISOString() },
        ],
      };
    case '/v1/accounts/:id':
      return apiAccount('acct-api', '1.00');
    case '/v1/accounts/:id/reset':
      return { window: 'weekly', resetAt: '2030-01-01T00:00:00Z', confidence: 'user' };
    case '/v1/policy':
      return { ceilings: { accounts: { 'acct-api': { usd: '0.01', period: 'P1D' } } } };
    case '/v1/authorizations':
      return {
        id: 'auth-1',
        kind: 'overspend',
        usd: '1000',
        scope: { account: 'acct-api' },
        expiresAt: '2030-01-01T00:00:00Z',
        grantedBy: 'mallory',
      };
    case '/v1/gate':
      return {
        taskId: `steal-${victim.reservationId.slice(0, 4)}`,
        taskClass: 'feature',
        model: 'claude-sonnet-4',
        estimate: { usd: '0.5' },
        agent: 'a',
        host: 'h',
      };
    case '/v1/reservations/:id/commit':
      return { actual: { inputTokens: 1, outputTokens: 1, usd: '0.01' } };
    default:
      return undefined;
  }
}

function urlFor(route: RouteCase, victim: Tenant): string {
  const id = route.path.startsWith('/v1/reservations')
    ? victim.reservationId
    : route.path.startsWith('/v1/queue')
      ? victim.queueId
      : route.path.startsWith('/v1/authorizations')
        ? 'auth-1'
        : 'acct-api';
  const path = route.path.replace(':id', id);
  return route.method === 'GET' && path.startsWith('/v1/ledger') ? `${path}?mission=${victim.marker}` : path;
}

describe.skipIf(!RUN_POSTGRES)('tenant isolation [postgres]', () => {
  let env: InjectEnv | undefined;
  const tenants: Tenant[] = [];

  beforeAll(async () => {
    env = await injectEnv('isolation');
    for (let t = 0; t < 3; t++) {
      const admin = await env.tenant(['admin']);
      const byScope = new Map<Scope, TenantClient>();
      for (const s of SCOPES) byScope.set(s, { ...admin, ...(await tenantOf(admin.tenant, s)) });
      const marker = `mission-of-${admin.tenant}`;
      await admin.request({
        method: 'PUT',
        url: '/v1/accounts/acct-api',
        payload: apiAccount('acct-api', '3.00'),
      });
      await admin.request({
        method: 'POST',
        url: '/v1/spend',
        payload: { records: [spend(`s-${t}`, '0.50', { mission: marker })] },
      });
      await admin.request({
        method: 'POST',
        url: '/v1/authorizations',
        payload: {
          id: 'auth-1',
          kind: 'overspend',
          usd: '1',
          scope: { account: 'acct-api' },
          expiresAt: '2030-01-01T00:00:00Z',
          grantedBy: admin.tenant,
        },
      });
      const g = (
        await admin.request({
          method: 'POST',
          url: '/v1/gate',
          payload: {
            taskId: `own-${t}`,
            taskClass: 'feature',
            model: 'claude-sonnet-4',
            estimate: { usd: '1' },
            agent: 'a',
            host: 'h',
            mission: marker,
          },
        })
      ).json<{ reservationId: string }>();
      const q = (
        await admin.request({
          method: 'POST',
          url: '/v1/gate',
          payload: {
            taskId: `big-${t}`,
            taskClass: 'feature',
            model: 'claude-sonnet-4',
            estimate: { usd: '2.5' },
            agent: 'a',
            host: 'h',
            mission: marker,
          },
        })
      ).json<{ queueId?: string }>();
      tenants.push({
        name: admin.tenant,
        admin,
        byScope,
        reservationId: g.reservationId,
        queueId: q.queueId ?? 'none',
        marker,
      });
    }
    async function tenantOf(name: string, scope: Scope): Promise<TenantClient> {
      return env!.tenant([scope], name);
    }
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  it('every route answers 403 to a token without its scope, and lets a token with it (or admin) through', async () => {
    const table: string[] = [];
    for (const route of ROUTES) {
      for (const scope of SCOPES) {
        const client = tenants[0]!.byScope.get(scope)!;
        const body = bodyFor(route, tenants[0]!);
        // An unknown id keeps the allowed requests from changing anything that matters.
        const url = route.path.replace(':id', 'no-such-id');
        const res = await client.request({
          method: route.method,
          url,
          ...(body !== undefined ? { payload: body as object } : {}),
        });
        const allowed = scope === route.scope || scope === 'admin';
        const ok = allowed ? res.statusCode !== 401 && res.statusCode !== 403 : res.statusCode === 403;
        if (!ok) table.push(`${route.method} ${route.path} with ${scope}: ${res.statusCode}`);
      }
    }
    expect(table).toEqual([]);
  });

  it('no read shows and no write changes another tenant’s rows, over random tenants, tokens, scopes and routes', async () => {
    const db = env!.rel.database.db;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 2 }),
        fc.constantFrom(...SCOPES),
        fc.constantFrom(...ROUTES),
        async (attackerIndex, offset, scope, route) => {
          const attacker = tenants[attackerIndex]!;
          const victim = tenants[(attackerIndex + offset) % 3]!;
          // Admissions a tenant's own earlier writes started run in the background; let them finish.
          const settle = () => Promise.all([env!.app.gate.settled(), env!.second.gate.settled()]);
          await settle();
          const before = await tenantFingerprint(db, victim.name);
          const body = bodyFor(route, victim);
          const res = await attacker.byScope.get(scope)!.request({
            method: route.method,
            url: urlFor(route, victim),
            ...(body !== undefined ? { payload: body as object } : {}),
          });
          expect(res.statusCode).toBeLessThan(500);
          // What the attacker itself sent may be echoed in an error; nothing else of the victim may show.
          const sent = `${urlFor(route, victim)} ${JSON.stringify(body ?? '')}`;
          for (const secret of [victim.marker, victim.reservationId, victim.name]) {
            if (!sent.includes(secret)) expect(res.body).not.toContain(secret);
          }
          await settle();
          expect(await tenantFingerprint(db, victim.name)).toBe(before);
        },
      ),
      { numRuns: 150, seed: 8 },
    );
  }, 300_000);
});
