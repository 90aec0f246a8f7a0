import { expect, it } from 'vitest';
import { describeOnBackends, type TenantClient } from './test-support/backends.js';
import { apiAccount } from './test-support/fixtures.js';

interface Answer {
  decision: string;
  reservationId?: string;
  reserve?: { usd: string };
  trace: { rule: string; numbers?: Record<string, string> }[];
}

const body = (taskId: string, tokens: number) => ({
  taskId,
  taskClass: 'review',
  model: 'claude-sonnet-4',
  estimate: { tokens },
  agent: 'claude-code',
  host: 'host-1',
});

async function ask(t: TenantClient, taskId: string, tokens: number): Promise<Answer> {
  const res = await t.request({ method: 'POST', url: '/v1/gate', payload: body(taskId, tokens) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Answer>();
}

// History corrects the estimates (issue 3 in the service): commits teach the tenant's estimator, and
// the gate then reserves the learnt P90 for that class and model instead of the orchestrator's word.
describeOnBackends('learning task sizes from commits', (env) => {
  it('reserves what was learnt, says so in the trace, and reports the error of past estimates', async () => {
    const t = await env().tenant();
    const put = await t.request({
      method: 'PUT',
      url: '/v1/accounts/acct-api',
      payload: apiAccount('acct-api', '1000'),
    });
    expect(put.statusCode).toBe(201);

    const cold = await ask(t, 'cold', 10_000);
    expect(cold.trace.some((s) => s.rule === 'estimate.learned')).toBe(false);
    const release = await t.request({
      method: 'POST',
      url: `/v1/reservations/${cold.reservationId}/release`,
    });
    expect(release.statusCode).toBe(200);

    // The orchestrator says 10k tokens; the tasks take 40k (input 30k, output 10k).
    for (let i = 0; i < 12; i++) {
      const a = await ask(t, `task-${i}`, 10_000);
      const commit = await t.request({
        method: 'POST',
        url: `/v1/reservations/${a.reservationId}/commit`,
        payload: {
          actual: { inputTokens: 30_000, outputTokens: 10_000, cacheReadTokens: 0, cacheWriteTokens: 0 },
        },
      });
      expect(commit.statusCode, commit.body).toBe(200);
    }

    const warm = await ask(t, 'warm', 10_000);
    const step = warm.trace.find((s) => s.rule === 'estimate.learned');
    expect(step?.numbers).toMatchObject({ requestedTokens: '10000' });
    expect(Number(step?.numbers?.reserveTokens)).toBeGreaterThanOrEqual(40_000);
    // The reservation now covers the learnt size: at least four times the cold one.
    expect(Number(warm.reserve?.usd)).toBeGreaterThanOrEqual(4 * Number(cold.reserve?.usd));

    const estimates = await t.request({ url: '/v1/estimates' });
    expect(estimates.statusCode).toBe(200);
    const [cell] = estimates.json<{ estimates: Record<string, unknown>[] }>().estimates;
    expect(cell).toMatchObject({ taskClass: 'review', model: 'claude-sonnet-4', samples: 12 });
    // Estimates of 10k for 40k actuals: 75% off, all under.
    expect(cell?.error).toMatchObject({ n: 12, mape: 0.75, bias: -0.75 });
  });
});
