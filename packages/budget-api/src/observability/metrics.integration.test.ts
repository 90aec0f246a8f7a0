import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { buildApp } from '../app.js';
import { describeOnBackends } from '../test-support/backends.js';
import { seedDemo } from './demo-seed.js';
import { apiAccount } from '../test-support/fixtures.js';

/** One sample of the Prometheus text format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return samples;
}

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

function one(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = find(samples, name, labels);
  expect(hits, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return hits[0]!.value;
}

// Labels a series may carry: bounded by configuration, never a task, agent, host or request id.
const ALLOWED_LABELS = new Set([
  'tenant',
  'provider',
  'account',
  'model',
  'window',
  'decision',
  'confidence',
  'type',
  'result',
  'outcome',
  'period',
  'le',
]);

describeOnBackends('metrics', (env) => {
  it('counts spend, tokens, ingest results and decisions, and computes register gauges at scrape time', async () => {
    const t = await env().tenant();
    const seed = await seedDemo(t.request);
    const res = await t.request({ url: '/metrics' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const s = parseExposition(res.body);
    const tenant = t.tenant;
    const api = { tenant, provider: 'anthropic', account: 'acct-api', model: 'claude-sonnet-4' };

    // Counters of actual spend where the ledger is written: two ingested records and one commit.
    expect(one(s, 'budget_spend_usd_total', api)).toBeCloseTo(3.5, 9);
    expect(one(s, 'budget_tokens_total', { ...api, type: 'input' })).toBe(1000 + 400 + 2000);
    expect(one(s, 'budget_tokens_total', { ...api, type: 'output' })).toBe(200 + 100 + 500);
    expect(one(s, 'budget_tokens_total', { ...api, type: 'cache_read' })).toBe(5000);
    expect(one(s, 'budget_tokens_total', { ...api, type: 'cache_write' })).toBe(300);
    expect(one(s, 'budget_ingest_records_total', { tenant, result: 'inserted' })).toBe(2);
    expect(one(s, 'budget_ingest_records_total', { tenant, result: 'duplicate' })).toBe(1);
    expect(one(s, 'budget_ingest_records_total', { tenant, result: 'rejected' })).toBe(1);

    // Gate decisions and the gate's duration histogram (one observation per POST /v1/gate).
    expect(one(s, 'budget_gate_decisions_total', { tenant, decision: 'allow', account: 'acct-api' })).toBe(1);
    const second = seed.queuedTask ? 'queue' : 'refuse';
    expect(find(s, 'budget_gate_decisions_total', { tenant, decision: second })).toHaveLength(1);
    expect(one(s, 'budget_gate_duration_seconds_count', { tenant })).toBe(2);
    expect(one(s, 'budget_gate_duration_seconds_bucket', { tenant, le: '+Inf' })).toBe(2);

    // The metered account's ceiling and running totals.
    const ceiling = { tenant, provider: 'anthropic', account: 'acct-api', period: 'P1D' };
    expect(one(s, 'budget_ceiling_usd', ceiling)).toBe(10);
    expect(one(s, 'budget_committed_usd', ceiling)).toBeCloseTo(3.5, 9);
    expect(one(s, 'budget_reserved_usd', ceiling)).toBe(0);
    const depth = find(s, 'budget_queue_depth', { tenant }).reduce((sum, x) => sum + x.value, 0);
    expect(depth).toBe(seed.queuedTask ? 1 : 0);

    // The subscription's weekly window: 78% used, 5 of 7 days elapsed, reset in two days.
    const weekly = { tenant, provider: 'anthropic', account: 'max-a', window: 'weekly' };
    expect(one(s, 'budget_window_used_ratio', weekly)).toBeCloseTo(0.78, 9);
    const target = one(s, 'budget_window_target_ratio', weekly);
    expect(target).toBeGreaterThan(0.7);
    expect(target).toBeLessThan(0.72);
    expect(one(s, 'budget_window_reset_timestamp_seconds', { ...weekly, confidence: 'provider' })).toBe(
      seed.resetAt.toMillis() / 1000,
    );
    // (100 − 78)% over two days ≈ 0.11 per day.
    expect(one(s, 'budget_pace_target_per_day_ratio', weekly)).toBeCloseTo(0.11, 2);
    const exhaustion = one(s, 'budget_window_projected_exhaustion_timestamp_seconds', weekly);
    expect(exhaustion).toBeLessThan(seed.resetAt.toMillis() / 1000);
    expect(one(s, 'budget_register_up')).toBe(1);

    for (const sample of s) {
      for (const label of Object.keys(sample.labels)) expect(ALLOWED_LABELS, sample.name).toContain(label);
    }
    // promtool (Debian's prometheus package) also lints names and units, when it is installed.
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: res.body, encoding: 'utf8' });
    if (!lint.error) expect(lint.status, lint.stdout + lint.stderr).toBe(0);
  });

  it('reports reservations held, queue wait on admission, expired reservations and late commits', async () => {
    const t = await env().tenant();
    const tenant = t.tenant;
    expect(
      (await t.request({ method: 'PUT', url: '/v1/accounts/acct-api', payload: apiAccount() })).statusCode,
    ).toBe(201);
    const ask = async (taskId: string, usd: string) => {
      const res = await t.request({
        method: 'POST',
        url: '/v1/gate',
        payload: {
          taskId,
          taskClass: 'feature',
          model: 'claude-sonnet-4',
          estimate: { usd },
          agent: 'a',
          host: 'h',
        },
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ decision: string; reservationId?: string; queueId?: string }>();
    };
    const a = await ask('q-a', '4');
    const b = await ask('q-b', '4');
    const c = await ask('q-c', '4');
    const scrape = async () => parseExposition((await t.request({ url: '/metrics' })).body);
    const ceiling = { tenant, account: 'acct-api', period: 'P1D' };
    let s = await scrape();
    expect(one(s, 'budget_reserved_usd', ceiling)).toBe(8);

    if (c.decision === 'queue') {
      expect(one(s, 'budget_queue_depth', { tenant, account: 'acct-api' })).toBe(1);
      await t.request({ method: 'POST', url: `/v1/reservations/${a.reservationId}/release` });
      await env().app.gate.settled();
      s = await scrape();
      expect(
        one(s, 'budget_queue_wait_seconds_count', { tenant, account: 'acct-api', outcome: 'admitted' }),
      ).toBe(1);
      expect(one(s, 'budget_queue_depth', { tenant, account: 'acct-api' })).toBe(0);
    }

    // A forgotten reservation expires (on the database clock); its late commit is still recorded.
    await env()
      .database.db.updateTable('fleet.reservations')
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', b.reservationId ?? '')
      .execute();
    await env().app.gate.sweep();
    const late = await t.request({
      method: 'POST',
      url: `/v1/reservations/${b.reservationId}/commit`,
      payload: { actual: { inputTokens: 10, outputTokens: 10, usd: '1.5' } },
    });
    expect(late.json()).toMatchObject({ late: true });
    s = await scrape();
    expect(one(s, 'budget_reservations_expired_total', { tenant })).toBe(1);
    expect(one(s, 'budget_late_commits_total', { tenant })).toBe(1);
    expect(one(s, 'budget_spend_usd_total', { tenant, account: 'acct-api' })).toBeCloseTo(1.5, 9);
  });

  it("shows a tenant's read token only that tenant's series, and refuses a scrape without a token", async () => {
    const a = await env().tenant();
    await seedDemo(a.request);
    const b = await env().tenant(['read']);
    const res = await b.request({ url: '/metrics' });
    expect(res.statusCode, res.body).toBe(200);
    const tenants = new Set(parseExposition(res.body).map((x) => x.labels.tenant));
    expect(tenants.has(a.tenant)).toBe(false);
    const ingest = await env().tenant(['ingest']);
    expect((await ingest.request({ url: '/metrics' })).statusCode).toBe(403);
    expect((await env().app.inject({ url: '/metrics' })).statusCode).toBe(401);
  });

  it('serves every tenant without a token when public, with gauges every replica computes alike', async () => {
    const a = await env().tenant();
    await seedDemo(a.request);
    // A second replica on the same database: it served none of the requests, yet its gauges agree.
    const replica = await buildApp({ database: env().database, background: false, metricsPublic: true });
    try {
      const res = await replica.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(200);
      const s = parseExposition(res.body);
      const weekly = { tenant: a.tenant, account: 'max-a', window: 'weekly' };
      expect(one(s, 'budget_window_used_ratio', weekly)).toBeCloseTo(0.78, 9);
      expect(one(s, 'budget_committed_usd', { tenant: a.tenant, account: 'acct-api' })).toBeCloseTo(3.5, 9);
      // Counters are per replica: this one wrote nothing, so Prometheus must sum across replicas.
      expect(find(s, 'budget_spend_usd_total', { tenant: a.tenant })).toHaveLength(0);
    } finally {
      await replica.close();
    }
  });
});
