import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { accountSchema } from './account.js';
import { dispatchRequestSchema, type DispatchRequestInput } from './dispatch.js';
import { failOpenDecision } from './fail-open.js';
import { dec, ZERO } from './money.js';
import { policySchema, type PolicyInput } from './policy.js';
import { priceTable } from './prices.js';

const accounts = ['max-a', 'max-b'].map((id) =>
  accountSchema.parse({
    id,
    provider: 'anthropic',
    kind: 'subscription',
    models: ['claude-sonnet-4', 'claude-haiku-4'],
    windows: [{ name: 'weekly', length: 'P7D' }],
  }),
);

function request(extra: Partial<DispatchRequestInput> = {}) {
  return dispatchRequestSchema.parse({
    taskId: 't1',
    taskClass: 'feature',
    model: 'claude-sonnet-4',
    estimate: { usd: '0.40' },
    agent: 'a',
    host: 'h',
    ...extra,
  });
}

function policy(input: PolicyInput) {
  return policySchema.parse(input);
}

describe('failOpenDecision', () => {
  it('fails closed by default', () => {
    const p = policy({});
    const d = failOpenDecision({
      request: request(),
      accounts,
      policy: p,
      prices: priceTable(p),
      allowedThisMinute: () => ZERO,
    });
    expect(d.allow).toBe(false);
    expect(d.reason).toMatch(/fails closed/);
  });

  it('allows under the cap, on the account asked for or the first in routing order, and says so', () => {
    const p = policy({
      routing: { order: ['max-b', 'max-a'] },
      failure: { onDatabaseDown: 'allow-capped', capUsdPerMinute: '1.00' },
    });
    const d = failOpenDecision({
      request: request(),
      accounts,
      policy: p,
      prices: priceTable(p),
      allowedThisMinute: () => dec('0.60'),
    });
    expect(d).toMatchObject({ allow: true, account: 'max-b', model: 'claude-sonnet-4' });
    if (d.allow) expect(d.usd.toString()).toBe('0.4');
    const named = failOpenDecision({
      request: request({ account: 'max-a' }),
      accounts,
      policy: p,
      prices: priceTable(p),
      allowedThisMinute: () => ZERO,
    });
    expect(named).toMatchObject({ allow: true, account: 'max-a' });
    expect(named.trace.map((s) => s.rule)).toEqual(['failure.database', 'failure.cap']);
  });

  it("an account's own rule overrides the policy's, both ways", () => {
    const p = policy({
      failure: {
        onDatabaseDown: 'allow-capped',
        capUsdPerMinute: '5',
        accounts: { 'max-a': { onDatabaseDown: 'refuse' } },
      },
    });
    const d = failOpenDecision({
      request: request({ account: 'max-a' }),
      accounts,
      policy: p,
      prices: priceTable(p),
      allowedThisMinute: () => ZERO,
    });
    expect(d.allow).toBe(false);
  });

  it('never lets what one replica allows in a minute exceed the cap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 1000 }),
        (cents, capCents) => {
          const cap = dec(capCents).div(100);
          const p = policy({ failure: { onDatabaseDown: 'allow-capped', capUsdPerMinute: cap.toString() } });
          let allowed = ZERO;
          for (const c of cents) {
            const d = failOpenDecision({
              request: request({ estimate: { usd: dec(c).div(100).toString() } }),
              accounts,
              policy: p,
              prices: priceTable(p),
              allowedThisMinute: () => allowed,
            });
            if (d.allow) allowed = allowed.plus(d.usd);
            expect(allowed.lte(cap)).toBe(true);
          }
        },
      ),
    );
  });

  it('rejects allow-capped without a cap when the policy is parsed', () => {
    expect(policySchema.safeParse({ failure: { onDatabaseDown: 'allow-capped' } }).success).toBe(false);
    expect(
      policySchema.safeParse({ failure: { accounts: { x: { onDatabaseDown: 'allow-capped' } } } }).success,
    ).toBe(false);
  });
});
