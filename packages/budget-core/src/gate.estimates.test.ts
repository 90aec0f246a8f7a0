import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import { decide } from './gate.js';
import { accountSchema } from './account.js';
import { authorizationSchema, type Authorization } from './authorization.js';
import { activeAuthorizations } from './authorizations-active.js';
import { dispatchRequestSchema } from './dispatch.js';
import { LIMIT_PERCENT, windowHeadroom, type WindowHeadroom } from './headroom.js';
import type { WindowSpec } from './window.js';
import { policySchema } from './policy.js';
import { dec } from './money.js';
import { HOUR_MS } from './time.js';
import type { AccountSnapshot, Snapshot } from './snapshot.js';

// Just after the American DST change, so weekly windows that began before it are shifted across it.
const NOW = DateTime.fromISO('2026-11-02T15:00:00Z', { setZone: true });
const NOW_MS = NOW.toMillis();
// Up to 7 accounts: enough for many pairs of near-ties, few enough for a quick run.
const MAX_ACCOUNTS = 7;
const NUM_RUNS = 150;
// Few distinct usages, capacities and resets, so that accounts often tie exactly (the case where
// the gate's estimates cannot decide and it falls back to decimals or to comparing inputs).
const USAGE = ['0', '12.5', '33.3333', '50', '87.25', '99.99', '100', '130'];
const CAPACITIES = ['30', '40', '1000'];
// Overspend amounts; at 2.5 % per USD (capacity 40), $0.0003 is an allowance of 0.00075 %, exactly
// halfway between two four-decimal texts, whose nearest double lies just below it.
const OVERSPEND = ['0', '25', '12.34', '0.0003'];
const RESETS_IN_H = [1, 30, 100, 168];
const policy = policySchema.parse({
  ladder: ['claude-opus-4', 'claude-sonnet-4'],
  pacing: { burst: { pace: 'PT1H' } },
});
const request = dispatchRequestSchema.parse({
  taskId: 't',
  taskClass: 'feature',
  model: 'claude-opus-4',
  estimate: { usd: '0.01' },
  agent: 'a',
  host: 'h',
});

const accountArb = fc.record({
  zone: fc.constantFrom('America/Chicago', 'Europe/London'),
  sessionCapacity: fc.constantFrom(...CAPACITIES),
  weeklyCapacity: fc.constantFrom(...CAPACITIES),
  sessionUsed: fc.constantFrom(...USAGE),
  weeklyUsed: fc.option(fc.constantFrom(...USAGE)),
  opusUsed: fc.option(fc.constantFrom(...USAGE)),
  unsignaled: fc.constantFrom('0', '0.5', '3'),
  reserved: fc.constantFrom('0', '1'),
  startedAgoH: fc.constantFrom(0, 2, 4),
  resetInH: fc.constantFrom(...RESETS_IN_H),
  rapid: fc.boolean(),
});
type AccountGen = typeof accountArb extends fc.Arbitrary<infer T> ? T : never;

function build(id: string, g: AccountGen): AccountSnapshot {
  const account = accountSchema.parse({
    id,
    provider: 'anthropic',
    kind: 'subscription',
    models: ['claude-opus-4', 'claude-sonnet-4'],
    timezone: g.zone,
    windows: [
      { name: 'five-hour', length: 'PT5H', rolling: true, capacityUsd: g.sessionCapacity },
      { name: 'weekly', length: 'P7D', capacityUsd: g.weeklyCapacity },
      { name: 'weekly-opus', length: 'P7D', models: ['claude-opus-4'], capacityUsd: '300' },
    ],
  });
  const observedAt = NOW.minus({ minutes: 5 });
  const windows: AccountSnapshot['windows'] = [
    {
      name: 'five-hour',
      usedPercent: dec(g.sessionUsed),
      observedAt,
      unsignaledUsd: dec(g.unsignaled),
      reservedPercent: dec(g.reserved),
      startedAt: NOW.minus({ hours: g.startedAgoH }),
      confidence: 'provider',
    },
  ];
  const resetAt = NOW.plus({ milliseconds: g.resetInH * HOUR_MS });
  if (g.weeklyUsed !== null) {
    windows.push({
      name: 'weekly',
      usedPercent: dec(g.weeklyUsed),
      observedAt,
      reservedPercent: dec(g.reserved),
      resetAt,
      confidence: 'provider',
    });
  }
  if (g.opusUsed !== null) {
    windows.push({
      name: 'weekly-opus',
      usedPercent: dec(g.opusUsed),
      observedAt,
      reservedPercent: dec(0),
      resetAt,
      confidence: 'user',
    });
  }
  return { account, windows, inflight: 0 };
}

const authorization = (a: Record<string, unknown>): Authorization =>
  authorizationSchema.parse({
    from: '2026-11-01T00:00:00Z',
    until: '2026-11-09T00:00:00Z',
    reason: 'test',
    createdBy: 'test',
    ...a,
  });

/** Every paced window of an account, in name order, with its exact numbers computed directly. */
function exactWindows(
  snap: AccountSnapshot,
  auths: readonly Authorization[],
): { spec: WindowSpec; h: WindowHeadroom }[] {
  const auth = activeAuthorizations(
    auths,
    { account: snap.account.id, provider: snap.account.provider, taskClass: request.taskClass },
    NOW_MS,
  );
  const out: { spec: WindowSpec; h: WindowHeadroom }[] = [];
  const specs = [...snap.account.windows].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const spec of specs) {
    const state = snap.windows.find((w) => w.name === spec.name);
    if (!state) continue;
    const h = windowHeadroom({
      spec,
      state,
      timezone: snap.account.timezone,
      nowMs: NOW_MS,
      burst: policy.pacing.burst,
      defaultCapacityUsd: policy.pacing.defaultCapacityUsd,
      authorizations: auth,
      bypass: false,
    });
    out.push({ spec, h });
  }
  return out;
}

const counts = (spec: WindowSpec, model: string) => !spec.models || spec.models.includes(model);

/** The routing score computed directly: the smallest exact headroom among the windows counting the model. */
function exactScore(snap: AccountSnapshot, auths: readonly Authorization[], model: string): Decimal {
  let score = LIMIT_PERCENT;
  for (const { spec, h } of exactWindows(snap, auths)) {
    if (counts(spec, model) && h.headroomPercent.lt(score)) score = h.headroomPercent;
  }
  return score;
}

/** A provider-wide overspend authorization (when asked for) and a rapid one on each account that asks. */
function authorizationsFor(gens: readonly AccountGen[], overspend: string | null): Authorization[] {
  return [
    ...(overspend !== null
      ? [
          authorization({
            id: 'over',
            kind: 'overspend',
            amountUsd: overspend,
            scope: { provider: 'anthropic' },
          }),
        ]
      : []),
    ...gens.flatMap((g, i) =>
      g.rapid
        ? [
            authorization({
              id: `rapid-${i}`,
              kind: 'rapid',
              multiplier: '1.5',
              scope: { account: `acct-${i}` },
            }),
          ]
        : [],
    ),
  ];
}

describe('ranking accounts', () => {
  it('lists every account with its exact score to four decimals, best first, equal scores in routing order', () => {
    fc.assert(
      fc.property(
        fc.array(accountArb, { minLength: 2, maxLength: MAX_ACCOUNTS }),
        fc.option(fc.constantFrom(...OVERSPEND)),
        (gens, overspend) => {
          const accounts = gens.map((g, i) => build(`acct-${i}`, g));
          const authorizations = authorizationsFor(gens, overspend);
          const snapshot: Snapshot = {
            tenantId: 't',
            accounts,
            providers: { anthropic: { inflight: 0 } },
            tenantInflight: 0,
            authorizations,
          };
          const d = decide(request, snapshot, policy, NOW);
          const step = d.trace.find((s) => s.rule === 'route.rank' && s.model === request.model);
          const scores = accounts.map((a) => exactScore(a, authorizations, request.model));
          // Array.prototype.sort is stable; the accounts are already in routing order (by id).
          const expected = accounts
            .map((a, i) => ({ id: a.account.id, score: scores[i] ?? LIMIT_PERCENT }))
            .sort((a, b) => b.score.comparedTo(a.score));
          expect(step?.order).toEqual(expected.map((e) => e.id));
          expect(Object.keys(step?.numbers ?? {}).sort()).toEqual(expected.map((e) => e.id).sort());
          for (const e of expected) expect(step?.numbers?.[e.id]).toBe(e.score.toFixed(4));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('the trace of a tested account', () => {
  it('shows the exact numbers of its windows, their exact pass or fail, and the exact binding window', () => {
    fc.assert(
      fc.property(
        accountArb,
        fc.option(fc.constantFrom(...OVERSPEND)),
        fc.oneof(
          fc.integer({ min: 0, max: 4_000 }).map((n) => ({ cents: n })),
          // An estimate of exactly (or within a rounding of) a window's headroom: the boundary case.
          fc.constantFrom('five-hour', 'weekly', 'weekly-opus').map((name) => ({ name })),
          // A share of a window within a rounding of halfway between two four-decimal texts.
          fc.record({
            halfway: fc.constantFrom('five-hour', 'weekly', 'weekly-opus'),
            tenThousandths: fc.integer({ min: 0, max: 20_000 }),
          }),
        ),
        (g, overspend, estimate) => {
          const snap = build('acct-0', g);
          const authorizations = authorizationsFor([g], overspend);
          const windows = exactWindows(snap, authorizations);
          let usd = dec(0);
          if ('cents' in estimate) usd = dec(estimate.cents).div(100);
          else if ('halfway' in estimate) {
            const w = windows.find((x) => x.spec.name === estimate.halfway) ?? windows[0];
            if (w) usd = dec(estimate.tenThousandths).plus('0.5').div(10_000).div(w.h.percentPerUsd);
          } else {
            const w = windows.find((x) => x.spec.name === estimate.name) ?? windows[0];
            if (w) usd = w.h.headroomPercent.div(w.h.percentPerUsd);
          }
          const d = decide(
            dispatchRequestSchema.parse({ ...request, account: 'acct-0', estimate: { usd: usd.toString() } }),
            {
              tenantId: 't',
              accounts: [snap],
              providers: { anthropic: { inflight: 0 } },
              tenantInflight: 0,
              authorizations,
            },
            policy,
            NOW,
          );
          let best: { name: string; p: Decimal; room: Decimal } | undefined;
          for (const { spec, h } of windows) {
            const state = d.trace.find((s) => s.rule === 'window.state' && s.window === spec.name);
            expect(state?.numbers).toMatchObject({
              used: h.usedPercent.toString(),
              reserved: h.reservedPercent.toString(),
              ideal: h.idealPercent.toFixed(4),
              burst: h.burstPercent.toFixed(4),
              allowance: h.allowancePercent.isZero() ? '0' : h.allowancePercent.toFixed(4),
              cap: h.capPercent.toFixed(4),
              headroom: h.headroomPercent.toFixed(4),
            });
            if (!counts(spec, request.model)) continue;
            const p = dec(usd.toString()).times(h.percentPerUsd);
            const fits =
              p.lte(h.headroomPercent) &&
              (p.gt(0) || h.usedPercent.plus(h.reservedPercent).lte(h.capPercent));
            const pace = d.trace.find((s) => s.rule === 'window.pace' && s.window === spec.name);
            expect(pace?.outcome).toBe(fits ? 'pass' : 'fail');
            expect(pace?.numbers?.estimate).toBe(p.toFixed(4));
            const slack = h.headroomPercent.minus(p);
            if (!best || slack.lt(best.room.minus(best.p)))
              best = { name: spec.name, p, room: h.headroomPercent };
          }
          if (d.decision === 'allow' && best) {
            expect(d.reason).toContain(
              ` = ${best.p.toFixed(4)}% of ${best.name}, which has ${best.room.toFixed(4)}% headroom.`,
            );
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
