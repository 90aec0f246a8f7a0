import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import {
  accountSchema,
  authorizationSchema,
  dispatchRequestSchema,
  policySchema,
  spendRecordSchema,
  usageSignalSchema,
} from '@mosaic/budget-core';
import type { TenantClient } from '../test-support/backends.js';
import { apiAccount, spend } from '../test-support/fixtures.js';
import { RUN_POSTGRES } from './support/postgres.js';
import { injectEnv, type InjectEnv } from './support/inject.js';
import { ROUTES, tenantFingerprint, type RouteCase } from './support/routes.js';

// Test 6 (service half): generated junk bodies, headers, query strings and path parameters on every
// route. Only 4xx problem documents (never a 5xx), nothing written, and the process stays up.
const RUNS = Number(process.env.MOSAIC_REL_HOSTILE_RUNS ?? 10_000);

const VALID: Record<string, unknown> = {
  '/v1/spend': { records: [spend('h-1', '1.00')] },
  '/v1/usage-signals': {
    signals: [
      { account: 'acct-api', window: 'weekly', usedPercent: '5', observedAt: '2026-11-24T00:00:00Z' },
    ],
  },
  '/v1/accounts/:id': apiAccount('acct-api', '5'),
  '/v1/accounts/:id/reset': { window: 'weekly', resetAt: '2026-12-01T00:00:00Z', confidence: 'user' },
  '/v1/policy': { ceilings: { accounts: { 'acct-api': { usd: '5', period: 'P1D' } } } },
  '/v1/authorizations': {
    id: 'a1',
    kind: 'overspend',
    usd: '1',
    scope: { account: 'acct-api' },
    expiresAt: '2030-01-01T00:00:00Z',
    grantedBy: 'x',
  },
  '/v1/gate': {
    taskId: 't',
    taskClass: 'feature',
    model: 'claude-sonnet-4',
    estimate: { usd: '1' },
    agent: 'a',
    host: 'h',
  },
  '/v1/reservations/:id/commit': { actual: { inputTokens: 1, outputTokens: 1, usd: '1' } },
};

/** True when a body is one the route's schema accepts (a valid write is not junk: it is filtered out). */
function acceptable(route: RouteCase, body: unknown, id: string): boolean {
  if (typeof body === 'string') {
    // Raw text that still parses as JSON (a byte-order mark is tolerated) is judged by what it parses to.
    try {
      return acceptable(route, JSON.parse(body.replace(/^\uFEFF/, '')) as unknown, id);
    } catch {
      return false;
    }
  }
  const b = body as Record<string, unknown> | null;
  const obj = b && typeof b === 'object' && !Array.isArray(b) ? b : undefined;
  switch (route.path) {
    case '/v1/spend':
      return (
        Array.isArray(obj?.records) &&
        (obj.records as unknown[]).every((r) => spendRecordSchema.safeParse(r).success) &&
        (obj.records as unknown[]).length > 0
      );
    case '/v1/usage-signals':
      return (
        Array.isArray(obj?.signals) &&
        (obj.signals as unknown[]).every((r) => usageSignalSchema.safeParse(r).success) &&
        (obj.signals as unknown[]).length > 0
      );
    case '/v1/accounts/:id':
      return obj !== undefined && accountSchema.safeParse({ id, ...obj }).success;
    case '/v1/policy':
      return policySchema.safeParse(body).success;
    case '/v1/authorizations':
      return authorizationSchema.safeParse(body).success;
    case '/v1/gate':
      return dispatchRequestSchema.safeParse(body).success;
    default:
      return false;
  }
}

// Junk of every kind: JSON values, near-valid bodies with one field replaced, raw text, deep nesting.
const junkValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    -1,
    -0.5,
    1e308,
    Number.MAX_SAFE_INTEGER + 2,
    '',
    ' ',
    'NaN',
    '-1',
    '1e999',
    '0x10',
    '9'.repeat(400),
    '2026-02-30T25:61:00Z',
    '+275760-09-13T00:00:00Z',
    '\u0000',
    '\uD800',
    '../../etc/passwd',
    '<script>',
    "'; drop table fleet.spend_ledger; --",
    null,
    true,
    [],
    {},
  ),
);
function nearValid(route: RouteCase): fc.Arbitrary<unknown> {
  const template = VALID[route.path];
  if (!template) return fc.jsonValue();
  const flat = JSON.stringify(template);
  return fc.tuple(fc.nat(), junkValue).map(([n, junk]) => {
    // Replace the n-th leaf (or a nested record's leaf) with junk.
    const copy = JSON.parse(flat) as Record<string, unknown>;
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]): void => {
      if (v && typeof v === 'object') {
        for (const [k, c] of Object.entries(v)) walk(c, [...path, Array.isArray(v) ? Number(k) : k]);
      } else paths.push(path);
    };
    walk(copy, []);
    const path = paths[n % paths.length] ?? [];
    let at: Record<string | number, unknown> = copy;
    for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
    const last = path.at(-1);
    if (last !== undefined) at[last] = junk;
    return copy;
  });
}
const rawText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '{',
    '{"records": [',
    '[]',
    'null',
    '{"a":1}{"b":2}',
    '\uFEFF{}',
    '{"__proto__": {"admin": true}}',
    '{"constructor": {"prototype": {}}}',
  ),
  fc.integer({ min: 1, max: 3000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
);
const pathParam = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '..',
    '%2e%2e',
    '%00',
    '%',
    '%zz',
    ' ',
    'a'.repeat(600),
    '%F0%9F%92%A9',
    '%C0%AF',
    'no-such-id',
  ),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.constantFrom('mission', 'task', 'account', 'from', 'to', 'cursor', 'limit', 'wait', 'x'),
      fc.oneof(
        fc.string({ maxLength: 30 }),
        junkValue.map((v) => JSON.stringify(v) ?? ''),
      ),
    )
    .map((d) => new URLSearchParams(d).toString()),
  fc.constantFrom(
    'limit=-1',
    'limit=1e9',
    'wait=99999',
    'wait=-5',
    'from=yesterday',
    'cursor=%ZZ',
    'to=2026-13-01',
    'a=1&a=2&a=3',
    '%',
  ),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  '',
  'application/problem+json',
);

describe.skipIf(!RUN_POSTGRES)('hostile input on every route [postgres]', () => {
  let env: InjectEnv | undefined;
  let client: TenantClient | undefined;

  beforeAll(async () => {
    env = await injectEnv('hostile');
    client = await env.tenant(['admin']);
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  it(`answers ${RUNS} generated hostile requests only with 4xx problem documents and writes nothing`, async () => {
    const db = env!.rel.database.db;
    const before = await tenantFingerprint(db, client!.tenant);
    const statuses = new Map<number, number>();
    let cases = 0;
    const request = fc.constantFrom(...ROUTES).chain((route) =>
      fc.record({
        route: fc.constant(route),
        id: pathParam,
        query,
        body: fc.oneof(nearValid(route), fc.jsonValue(), rawText, fc.constant(undefined)),
        raw: fc.boolean(),
        type: contentType,
        auth: fc.oneof(
          { weight: 9, arbitrary: fc.constant('good') },
          { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
        ),
        extraHeader: fc.option(
          fc.tuple(
            fc.constantFrom('x-forwarded-for', 'content-length', 'transfer-encoding', 'accept', 'x-tenant'),
            fc.string({ maxLength: 40 }),
          ),
        ),
        ip: fc.ipV4(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        cases++;
        if (r.route.writes && acceptable(r.route, r.body, r.id)) return;
        const id = /^[\x21-\x7e]*$/.test(r.id) ? r.id : encodeURIComponent(r.id);
        const url = `${r.route.path.replace(':id', id)}${r.query ? `?${r.query}` : ''}`;
        const payload =
          r.body === undefined
            ? undefined
            : r.raw || typeof r.body === 'string'
              ? String(typeof r.body === 'string' ? r.body : JSON.stringify(r.body))
              : JSON.stringify(r.body);
        const headers: Record<string, string> = {
          authorization: r.auth === 'good' ? `Bearer ${client!.token}` : r.auth,
          ...(r.type ? { 'content-type': r.type } : {}),
        };
        if (r.extraHeader) headers[r.extraHeader[0]] = r.extraHeader[1];
        const options: InjectOptions = {
          method: r.route.method,
          url,
          headers,
          remoteAddress: r.ip,
          ...(payload !== undefined && r.route.method !== 'GET' ? { payload } : {}),
        };
        let res;
        try {
          res = await env!.app.inject(options);
        } catch {
          // The test client itself refused to send it (an illegal header value): nothing reached the service.
          return;
        }
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect(
          res.statusCode,
          `${r.route.method} ${url} ${String(payload).slice(0, 200)} → ${res.body.slice(0, 300)}`,
        ).toBeLessThan(500);
        if (res.statusCode >= 400) {
          expect(res.headers['content-type']).toContain('application/problem+json');
          expect(res.json<{ code: string }>().code).toMatch(/^BUDGET_ERR_/);
        } else {
          // Only reads may succeed on junk (unknown query keys are ignored); a write must not.
          expect(r.route.writes, `${r.route.method} ${url} accepted ${String(payload).slice(0, 200)}`).toBe(
            false,
          );
        }
      }),
      { numRuns: RUNS, seed: 6 },
    );
    await env!.app.gate.settled();
    expect(await tenantFingerprint(db, client!.tenant)).toBe(before);
    expect((await env!.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    console.info(`[reliability:hostile] cases=${cases} statuses=${JSON.stringify([...statuses].sort())}`);
    expect(cases).toBeGreaterThanOrEqual(10_000);
  }, 900_000);
});
