import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  activeAuthorizations,
  authorizationCovers,
  authorizationInForce,
  NO_AUTHORIZATIONS,
  taskAuthorizations,
} from './authorizations-active.js';
import { authorizationSchema, type AuthorizationInput } from './authorization.js';

const NOW = DateTime.fromISO('2026-11-25T12:00:00Z', { setZone: true });
const target = { account: 'max-a', provider: 'anthropic', taskClass: 'feature', mission: 'm1' };
const auth = (a: Partial<AuthorizationInput> & Pick<AuthorizationInput, 'id' | 'kind'>) =>
  authorizationSchema.parse({
    from: '2026-11-25T00:00:00Z',
    until: '2026-11-26T00:00:00Z',
    reason: 'r',
    createdBy: 'ops',
    ...a,
  });

describe('activeAuthorizations', () => {
  it('is in force from `from` (inclusive) to `until` (exclusive), unless revoked by now', () => {
    const a = auth({ id: 'a', kind: 'urgency-bypass' });
    expect(authorizationInForce(a, a.from.toMillis())).toBe(true);
    expect(authorizationInForce(a, a.until.toMillis())).toBe(false);
    expect(authorizationInForce({ ...a, revokedAt: NOW }, NOW.toMillis())).toBe(false);
    expect(authorizationInForce({ ...a, revokedAt: NOW.plus({ hours: 1 }) }, NOW.toMillis())).toBe(true);
  });

  it('covers a target when every scope field it names matches; an empty scope covers all', () => {
    expect(authorizationCovers(auth({ id: 'a', kind: 'urgency-bypass' }), target)).toBe(true);
    expect(
      authorizationCovers(
        auth({ id: 'a', kind: 'urgency-bypass', scope: { account: 'max-a', mission: 'm1' } }),
        target,
      ),
    ).toBe(true);
    expect(
      authorizationCovers(
        auth({ id: 'a', kind: 'urgency-bypass', scope: { account: 'max-a', taskClass: 'review' } }),
        target,
      ),
    ).toBe(false);
  });

  it('take the highest rapid multiplier, sum overspend amounts, and flag a bypass', () => {
    const r = activeAuthorizations(
      [
        auth({ id: 'r2', kind: 'rapid', multiplier: '2' }),
        auth({ id: 'r3', kind: 'rapid', multiplier: '3', scope: { provider: 'anthropic' } }),
        auth({ id: 'r9', kind: 'rapid', multiplier: '9', scope: { provider: 'openai' } }),
        auth({ id: 'o1', kind: 'overspend', amountUsd: '10' }),
        auth({ id: 'o2', kind: 'overspend', amountUsd: '2.5' }),
        auth({ id: 'b', kind: 'urgency-bypass', scope: { taskClass: 'feature' } }),
      ],
      target,
      NOW.toMillis(),
    );
    expect(r.rapid?.id).toBe('r3');
    expect(r.overspendUsd.toString()).toBe('12.5');
    expect(r.bypass).toBe(true);
    expect(r.ids).toEqual(['b', 'o1', 'o2', 'r2', 'r3']);
  });

  it('return the shared empty effect when nothing applies', () => {
    expect(activeAuthorizations([], target, NOW.toMillis())).toBe(NO_AUTHORIZATIONS);
    const later = auth({
      id: 'x',
      kind: 'urgency-bypass',
      from: '2026-11-27T00:00:00Z',
      until: '2026-11-28T00:00:00Z',
    });
    expect(activeAuthorizations([later], target, NOW.toMillis())).toBe(NO_AUTHORIZATIONS);
  });
});

describe('taskAuthorizations', () => {
  const ACCOUNTS = ['max-a', 'max-b', 'max-c', 'codex-a'];
  const providerOf = (account: string) => (account.startsWith('codex') ? 'openai' : 'anthropic');
  const scopeArb = fc.record(
    {
      account: fc.constantFrom(...ACCOUNTS),
      provider: fc.constantFrom('anthropic', 'openai'),
      taskClass: fc.constantFrom('feature', 'review'),
      mission: fc.constantFrom('m1', 'm2'),
    },
    { requiredKeys: [] },
  );
  const authArb = fc.record({
    kind: fc.constantFrom('rapid' as const, 'overspend' as const, 'urgency-bypass' as const),
    scope: scopeArb,
    // Hours from now: some not yet in force, some over.
    fromH: fc.integer({ min: -3, max: 1 }),
    lastsH: fc.integer({ min: 1, max: 4 }),
    n: fc.integer({ min: 1, max: 4 }),
  });

  it('folds for every account exactly as activeAuthorizations does, asked in any order and again', () => {
    fc.assert(
      fc.property(
        fc.array(authArb, { maxLength: 6 }),
        fc.option(fc.constantFrom('m1', 'm2'), { nil: undefined }),
        fc.array(fc.constantFrom(...ACCOUNTS), { minLength: 1, maxLength: 8 }),
        (gens, mission, asked) => {
          const auths = gens.map((g, i) =>
            auth({
              id: `a${i}`,
              kind: g.kind,
              scope: g.scope,
              from: NOW.plus({ hours: g.fromH }).toISO() ?? '',
              until: NOW.plus({ hours: g.fromH + g.lastsH }).toISO() ?? '',
              ...(g.kind === 'rapid' ? { multiplier: String(1 + g.n / 2) } : {}),
              ...(g.kind === 'overspend' ? { amountUsd: String(g.n * 5) } : {}),
            }),
          );
          const task = { taskClass: 'feature', ...(mission !== undefined ? { mission } : {}) };
          const forTask = taskAuthorizations(auths, task, NOW.toMillis());
          for (const account of asked) {
            const provider = providerOf(account);
            expect(forTask(account, provider)).toEqual(
              activeAuthorizations(auths, { account, provider, ...task }, NOW.toMillis()),
            );
          }
        },
      ),
    );
  });
});
