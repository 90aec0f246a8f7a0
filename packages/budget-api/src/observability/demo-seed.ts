import { DateTime } from 'luxon';

/** A request function with the shape of `app.inject` (a tenant client's `request`). */
export type SeedRequest = (options: {
  method?: 'GET' | 'POST' | 'PUT';
  url: string;
  payload?: Record<string, unknown>;
}) => Promise<{ statusCode: number; body: string; json<T = unknown>(): T }>;

/** What {@link seedDemo} created, for assertions. */
export interface DemoSeed {
  now: DateTime;
  /** The weekly window's reset (two days after `now`). */
  resetAt: DateTime;
  /** The newest signal's used % on the subscription's weekly window. */
  usedPercent: number;
  /** Actual USD written to the api account's ledger (ingested plus committed). */
  apiActualUsd: string;
  reservationId: string;
  queuedTask?: string;
}

async function must(
  request: SeedRequest,
  options: Parameters<SeedRequest>[0],
  status: number[] = [200, 201],
): Promise<unknown> {
  const res = await request(options);
  if (!status.includes(res.statusCode)) {
    throw new Error(`${options.method ?? 'GET'} ${options.url} answered ${res.statusCode}: ${res.body}`);
  }
  return res.json();
}

/**
 * Seeds one tenant, through the public API only, with what the dashboard and the metrics show: a
 * metered api account with a daily ceiling and spend, a subscription with a weekly window running
 * ahead of pace (signals over the previous and current period), a committed reservation and a
 * queued task. The same data backs the metrics tests, the dashboard test and its screenshot.
 */
export async function seedDemo(request: SeedRequest, now: DateTime = DateTime.utc()): Promise<DemoSeed> {
  await must(request, {
    method: 'PUT',
    url: '/v1/accounts/acct-api',
    payload: {
      id: 'acct-api',
      provider: 'anthropic',
      kind: 'api',
      models: ['claude-sonnet-4', 'claude-haiku-4'],
      timezone: 'UTC',
      ceiling: { usd: '10.00', period: 'P1D' },
    },
  });
  await must(request, {
    method: 'PUT',
    url: '/v1/accounts/max-a',
    payload: {
      id: 'max-a',
      provider: 'anthropic',
      kind: 'subscription',
      models: ['claude-opus-4', 'claude-sonnet-4'],
      timezone: 'America/Chicago',
      windows: [{ name: 'weekly', length: 'P7D' }],
    },
  });
  const resetAt = now.plus({ days: 2 }).startOf('second');
  const at = (days: number): string => now.minus({ days }).toISO() ?? '';
  const reset = resetAt.toISO() ?? '';
  // The previous period ended at 91% (the drop to 12% shows its reset); this one runs ahead of pace.
  const series: [number, number][] = [
    [6.5, 84],
    [5.2, 91],
    [4.5, 12],
    [3.5, 30],
    [2.5, 47],
    [1.5, 63],
    [0.5, 76],
    [0.05, 78],
  ];
  await must(request, {
    method: 'POST',
    url: '/v1/usage-signals',
    payload: {
      signals: series.map(([days, used]) => ({
        account: 'max-a',
        window: 'weekly',
        usedPercent: String(used),
        observedAt: at(days),
        ...(days < 5 ? { resetAt: reset, confidence: 'provider' } : {}),
        source: 'statusline',
      })),
    },
  });
  const record = (key: string, usd: string, tokens: number[]): Record<string, unknown> => ({
    host: 'host-1',
    agent: 'claude-code',
    mission: 'm-1',
    task: `task-${key}`,
    taskClass: 'feature',
    provider: 'anthropic',
    account: 'acct-api',
    model: 'claude-sonnet-4',
    inputTokens: tokens[0],
    outputTokens: tokens[1],
    cacheReadTokens: tokens[2],
    cacheWriteTokens: tokens[3],
    usd,
    kind: 'actual',
    occurredAt: now.minus({ minutes: 5 }).toISO(),
    idempotencyKey: key,
  });
  await must(request, {
    method: 'POST',
    url: '/v1/spend',
    payload: {
      records: [record('s-1', '1.50', [1000, 200, 5000, 300]), record('s-2', '0.75', [400, 100, 0, 0])],
    },
  });
  // A replay: both records are duplicates now.
  await must(request, {
    method: 'POST',
    url: '/v1/spend',
    payload: { records: [record('s-1', '1.50', [1000, 200, 5000, 300])] },
  });
  // A refused batch (unknown account): nothing is written, every record counts as rejected.
  await must(
    request,
    {
      method: 'POST',
      url: '/v1/spend',
      payload: { records: [{ ...record('s-3', '0.10', [1, 1, 0, 0]), account: 'nope' }] },
    },
    [400, 404, 409, 422],
  );
  const gateBody = (taskId: string, usd: string): Record<string, unknown> => ({
    taskId,
    taskClass: 'feature',
    model: 'claude-sonnet-4',
    // Asked for the metered account by name: the gate would otherwise try the subscription first.
    account: 'acct-api',
    estimate: { usd },
    agent: 'claude-code',
    host: 'host-1',
    mission: 'm-1',
  });
  const allowed = (await must(request, {
    method: 'POST',
    url: '/v1/gate',
    payload: gateBody('g-1', '2'),
  })) as { decision: string; reservationId?: string };
  if (!allowed.reservationId) throw new Error(`the seed's first task was not admitted: ${allowed.decision}`);
  await must(request, {
    method: 'POST',
    url: `/v1/reservations/${allowed.reservationId}/commit`,
    payload: {
      actual: { inputTokens: 2000, outputTokens: 500, cacheReadTokens: 0, cacheWriteTokens: 0, usd: '1.25' },
    },
  });
  // 3.50 of the 10.00 ceiling is spent: a 9 USD task cannot fit today and waits (or is refused).
  const big = (await must(request, { method: 'POST', url: '/v1/gate', payload: gateBody('g-2', '9') })) as {
    decision: string;
  };
  return {
    now,
    resetAt,
    usedPercent: 78,
    apiActualUsd: '3.5',
    reservationId: allowed.reservationId,
    ...(big.decision === 'queue' ? { queuedTask: 'g-2' } : {}),
  };
}
