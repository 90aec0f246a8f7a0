import { expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { FleetDb } from './db/database.js';
import { describeOnBackends } from './test-support/backends.js';
import { apiAccount, spend } from './test-support/fixtures.js';

// Every route of the contract, with a path whose parameters the generator may replace.
const ROUTES: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string }[] = [
  { method: 'POST', url: '/v1/spend' },
  { method: 'POST', url: '/v1/usage-signals' },
  { method: 'GET', url: '/v1/accounts' },
  { method: 'PUT', url: '/v1/accounts/:id' },
  { method: 'PUT', url: '/v1/accounts/:id/reset' },
  { method: 'GET', url: '/v1/policy' },
  { method: 'PUT', url: '/v1/policy' },
  { method: 'POST', url: '/v1/authorizations' },
  { method: 'GET', url: '/v1/authorizations' },
  { method: 'DELETE', url: '/v1/authorizations/:id' },
  { method: 'GET', url: '/v1/ledger' },
  { method: 'GET', url: '/v1/pace' },
  { method: 'GET', url: '/v1/reports/spend.md' },
  { method: 'POST', url: '/v1/gate' },
  { method: 'POST', url: '/v1/reservations/:id/commit' },
  { method: 'POST', url: '/v1/reservations/:id/release' },
  { method: 'GET', url: '/v1/queue/:id' },
  { method: 'GET', url: '/v1/queue' },
];

// Bounded so a run stays fast on a loaded machine; shrinking still finds the smallest failing body.
const RUNS = 120;

const junkValue = fc.oneof(
  fc.anything({ maxDepth: 3, maxKeys: 5 }),
  fc.constantFrom(
    -1,
    -1e308,
    1e308,
    Number.MAX_SAFE_INTEGER,
    0.1,
    '',
    '9999-99-99T99:99:99Z',
    '1e999',
    'NaN',
  ),
);

// Plausible shapes with wrong parts: the records/signals arrays and gate fields with junk inside.
const junkBody = fc.oneof(
  junkValue,
  fc.record({
    records: fc.array(
      fc.dictionary(
        fc.constantFrom('usd', 'inputTokens', 'occurredAt', 'account', 'idempotencyKey', 'host'),
        junkValue,
      ),
      { maxLength: 3 },
    ),
  }),
  fc.record({
    signals: fc.array(
      fc.dictionary(fc.constantFrom('account', 'window', 'usedPercent', 'observedAt', 'resetAt'), junkValue),
      { maxLength: 3 },
    ),
  }),
  fc.dictionary(
    fc.constantFrom(
      'taskId',
      'taskClass',
      'model',
      'estimate',
      'agent',
      'host',
      'deadline',
      'urgency',
      'actual',
      'window',
      'resetAt',
      'ladder',
      'ceiling',
      'kind',
      'models',
    ),
    junkValue,
  ),
);

const junkSegment = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.constantFrom('..', '%00', 'a'.repeat(200), '💸', 'acct-api'),
);
const junkQuery = fc.dictionary(
  fc.constantFrom('mission', 'from', 'to', 'cursor', 'limit', 'wait', 'account', 'task'),
  fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('-1', '1e9', '2026-13-45T00:00:00Z', 'x')),
  { maxKeys: 3 },
);

const TABLES = [
  'spend_ledger',
  'accounts',
  'policies',
  'usage_signals',
  'authorizations',
  'reservations',
  'queue_entries',
  'window_state',
  'period_totals',
] as const;

async function counts(db: FleetDb): Promise<string> {
  const parts = await Promise.all(
    TABLES.map(
      async (t) =>
        (await sql<{ n: string }>`select count(*)::text as n from ${sql.table(`fleet.${t}`)}`.execute(db))
          .rows[0]?.n,
    ),
  );
  return parts.join(',');
}

describeOnBackends('bad input', (env) => {
  it('junk thrown at every route gets a 4xx problem document, never a 500, and writes nothing', async () => {
    const t = await env().tenant();
    await t.request({ method: 'PUT', url: '/v1/accounts/acct-api', payload: apiAccount() });
    await t.request({ method: 'POST', url: '/v1/spend', payload: { records: [spend('seed', '1')] } });
    const db = env().database.db;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        junkSegment,
        junkBody,
        junkQuery,
        fc.boolean(),
        async (route, segment, body, query, rawText) => {
          const url = route.url.replace(':id', encodeURIComponent(segment));
          const qs = new URLSearchParams(query).toString();
          const before = await counts(db);
          const payload =
            route.method === 'GET' || route.method === 'DELETE'
              ? undefined
              : rawText
                ? String(JSON.stringify(body)).slice(0, -1)
                : JSON.stringify(body ?? null);
          const res = await t.request({
            method: route.method,
            url: qs ? `${url}?${qs}` : url,
            ...(payload !== undefined ? { payload, headers: { 'content-type': 'application/json' } } : {}),
          });
          expect(res.statusCode, `${route.method} ${url}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
          if (res.statusCode >= 400) {
            expect(res.headers['content-type']).toContain('application/problem+json');
            const doc = res.json<{ status: number; code: string }>();
            expect(doc.status).toBe(res.statusCode);
            expect(doc.code).toMatch(/^BUDGET_ERR_/);
            expect(await counts(db)).toBe(before);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses an oversized body with 413 and a batch beyond 10,000 records with 400', async () => {
    const t = await env().tenant();
    const huge = await t.request({
      method: 'POST',
      url: '/v1/spend',
      headers: { 'content-type': 'application/json' },
      payload: `{"records":["${'x'.repeat(17 * 1024 * 1024)}"]}`,
    });
    expect(huge.statusCode).toBe(413);
    const many = Array.from({ length: 10_001 }, (_, i) => spend(`k${i}`, '0.01'));
    const tooMany = await t.request({ method: 'POST', url: '/v1/spend', payload: { records: many } });
    expect(tooMany.statusCode).toBe(400);
  });
});
