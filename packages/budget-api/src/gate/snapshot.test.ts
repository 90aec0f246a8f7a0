import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { accountSchema, dec, policySchema } from '@mosaic/budget-core';
import type { TenantConfig } from '../register/config-cache.js';
import { SnapshotPlans, snapshotFrom, totalsKey, type GateState } from './snapshot.js';
import { periodAt } from '../register/periods.js';

const accounts = [
  { id: 'chi', timezone: 'America/Chicago', period: 'P1D' },
  { id: 'ber', timezone: 'Europe/Berlin', period: 'P1W' },
  { id: 'utc', timezone: 'UTC', period: 'P1M' },
].map((a) =>
  accountSchema.parse({
    id: a.id,
    provider: 'anthropic',
    kind: 'api',
    models: ['claude-sonnet-4'],
    timezone: a.timezone,
    ceiling: { usd: '10', period: a.period },
  }),
);
const policy = policySchema.parse({ ceilings: { providers: { anthropic: { usd: '25', period: 'P1D' } } } });
const config: TenantConfig = {
  tenantId: 't',
  version: 1,
  policy: { version: 1, document: {}, policy, createdAt: '', createdBy: '' },
  accounts,
  accountsById: new Map(accounts.map((a) => [a.id, a])),
  authorizations: [],
};

// A state holding running totals for every period of the fortnight around `at`, so whichever period
// a snapshot picks, the totals it shows say which one it was.
function stateAround(at: DateTime): GateState {
  const totals: GateState['totals'] = new Map();
  for (let d = -15; d <= 15; d++) {
    const day = at.plus({ days: d });
    for (const a of accounts) {
      const c = a.ceiling!;
      const { start } = periodAt(c.period, a.timezone, day);
      totals.set(totalsKey('account', a.id, c.period, start.toMillis()), {
        committedUsd: dec(start.toMillis() % 997),
        reservedUsd: dec(0),
      });
    }
    const { start } = periodAt('P1D', 'UTC', day);
    totals.set(totalsKey('provider', 'anthropic', 'P1D', start.toMillis()), {
      committedUsd: dec(start.toMillis() % 991),
      reservedUsd: dec(0),
    });
  }
  return {
    now: at,
    version: 1,
    windows: new Map(),
    inflight: { account: new Map(), provider: new Map(), total: 0 },
    totals,
    estimator: { version: 1, cells: {} },
  };
}

describe('SnapshotPlans', () => {
  it('builds the same snapshot as planning afresh, as time crosses day, week, month and DST edges', () => {
    const base = DateTime.fromISO('2026-03-07T00:00:00Z', { zone: 'utc' }).toMillis();
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 * 86_400_000 }), { minLength: 1, maxLength: 30 }),
        (offsets) => {
          const plans = new SnapshotPlans();
          // Time moves forward, as the database clock does; the plan is reused while it holds.
          for (const offset of [...offsets].sort((a, b) => a - b)) {
            const now = DateTime.fromMillis(base + offset, { zone: 'utc' });
            const state = stateAround(now);
            const planned = snapshotFrom(state, config, now, plans.for(config, now));
            const fresh = snapshotFrom(state, config, now);
            expect(JSON.stringify(planned)).toBe(JSON.stringify(fresh));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
