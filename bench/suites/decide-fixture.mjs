// The fixture of suite 1: snapshots of N subscription accounts with windows, ceilings,
// authorizations and the full ladder, and the request and policy decide() is timed with.
import {
  accountSchema,
  authorizationSchema,
  dec,
  dispatchRequestSchema,
  instantSchema,
  policySchema,
} from '../../packages/budget-core/dist/index.js';

// The core's own luxon (through its schema), so the bench never mixes two copies of it.
export const NOW = instantSchema.parse('2026-11-25T09:00:00-06:00');
const RESET = instantSchema.parse('2026-11-27T17:00:00-06:00');
const LADDER = ['claude-opus-4', 'claude-sonnet-4', 'claude-haiku-4', 'gpt-5-codex'];

export function snapshotOf(n) {
  const accounts = [];
  for (let i = 0; i < n; i++) {
    const codex = i % 4 === 3;
    const account = accountSchema.parse({
      id: `acct-${i}`,
      provider: codex ? 'openai' : 'anthropic',
      kind: 'subscription',
      models: codex ? ['gpt-5-codex'] : LADDER.slice(0, 3),
      timezone: 'America/Chicago',
      windows: [
        { name: 'five-hour', length: 'PT5H', rolling: true, capacityUsd: '40' },
        { name: 'weekly', length: 'P7D', capacityUsd: '1000' },
      ],
      ceiling: { usd: '500', period: 'P1W' },
      concurrency: 8,
    });
    // Usage spread from well under to well over the pace line, so some accounts refuse the top model.
    const used = (20 + ((i * 37) % 70)).toString();
    accounts.push({
      account,
      windows: [
        {
          name: 'five-hour',
          usedPercent: dec(((i * 13) % 90).toString()),
          observedAt: NOW.minus({ minutes: 10 }),
          unsignaledUsd: dec('0.5'),
          reservedPercent: dec('1'),
          startedAt: NOW.minus({ hours: 2 }),
          resetAt: NOW.plus({ hours: 3 }),
          confidence: 'provider',
        },
        {
          name: 'weekly',
          usedPercent: dec(used),
          observedAt: NOW.minus({ minutes: 10 }),
          unsignaledUsd: dec('2'),
          reservedPercent: dec('0.5'),
          resetAt: RESET,
          confidence: 'provider',
        },
      ],
      period: {
        start: NOW.startOf('week'),
        end: NOW.startOf('week').plus({ weeks: 1 }),
        committedUsd: dec('120'),
        reservedUsd: dec('10'),
      },
      inflight: i % 8,
    });
  }
  const authorizations = [
    { id: 'a-rapid', kind: 'rapid', multiplier: '1.5', scope: { account: 'acct-0' } },
    { id: 'a-over', kind: 'overspend', amountUsd: '50', scope: { provider: 'anthropic' } },
    { id: 'a-bypass', kind: 'urgency-bypass', scope: { taskClass: 'hotfix' } },
    { id: 'a-old', kind: 'rapid', multiplier: '2', scope: {}, until: '2026-11-24T12:00:00Z' },
  ].map((a) =>
    authorizationSchema.parse({
      from: '2026-11-24T00:00:00Z',
      until: '2026-11-30T00:00:00Z',
      reason: 'bench',
      createdBy: 'bench',
      ...a,
    }),
  );
  return {
    tenantId: 'bench',
    accounts,
    providers: { anthropic: { inflight: n }, openai: { inflight: 0 } },
    tenantInflight: n,
    authorizations,
  };
}

export const policy = policySchema.parse({
  ladder: LADDER,
  taskClasses: { feature: { estimate: { tokens: 200_000 } } },
  concurrency: { tenant: 1000 },
  ceilings: { providers: { anthropic: { usd: '100000', period: 'P1M' } } },
});
export const request = dispatchRequestSchema.parse({
  taskId: 'bench-task',
  taskClass: 'feature',
  model: 'claude-opus-4',
  estimate: { tokens: 300_000 },
  agent: 'bench',
  host: 'bench-host',
});

/**
 * The snapshot with the register's part made anew (window states and period totals: new decimals),
 * the accounts' settings and the authorizations shared — what the service holds after it re-reads
 * the register, which it does at most every 200 ms.
 */
export function freshStateOf(snapshot) {
  return {
    ...snapshot,
    accounts: snapshot.accounts.map((a) => ({
      ...a,
      windows: a.windows.map((w) => ({
        ...w,
        usedPercent: dec(w.usedPercent.toString()),
        unsignaledUsd: dec(w.unsignaledUsd.toString()),
        reservedPercent: dec(w.reservedPercent.toString()),
      })),
      period: {
        ...a.period,
        committedUsd: dec(a.period.committedUsd.toString()),
        reservedUsd: dec(a.period.reservedUsd.toString()),
      },
    })),
  };
}
