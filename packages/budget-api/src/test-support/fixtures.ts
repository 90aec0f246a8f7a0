import type { AccountInput, SpendRecordInput } from '@mosaic/budget-core';

/** An api account with a hard daily ceiling. */
export function apiAccount(id = 'acct-api', usd = '10.00'): AccountInput {
  return {
    id,
    provider: 'anthropic',
    kind: 'api',
    models: ['claude-sonnet-4', 'claude-haiku-4'],
    timezone: 'UTC',
    ceiling: { usd, period: 'P1D' },
  };
}

/** A subscription account with a weekly window. */
export function subscriptionAccount(id = 'acct-sub'): AccountInput {
  return {
    id,
    provider: 'anthropic',
    kind: 'subscription',
    models: ['claude-opus-4', 'claude-sonnet-4'],
    timezone: 'America/Chicago',
    windows: [{ name: 'weekly', length: 'P7D' }],
  };
}

// One instant per test run, so a replayed record is the same content (and lands in the current period).
const NOW = new Date().toISOString();

/** A spend record on `account` with the given key and USD. */
export function spend(key: string, usd: string, overrides: Partial<SpendRecordInput> = {}): SpendRecordInput {
  return {
    host: 'host-1',
    agent: 'claude-code',
    mission: 'm-1',
    task: `task-${key}`,
    taskClass: 'feature',
    provider: 'anthropic',
    account: 'acct-api',
    model: 'claude-sonnet-4',
    inputTokens: 1000,
    outputTokens: 200,
    usd,
    kind: 'actual',
    occurredAt: NOW,
    idempotencyKey: key,
    ...overrides,
  };
}
