import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import { decide } from './gate.js';
import { accountSchema, type AccountInput } from './account.js';
import { authorizationSchema } from './authorization.js';
import { dispatchRequestSchema, type DispatchRequest } from './dispatch.js';
import { policySchema, type Policy } from './policy.js';
import { dec, ZERO } from './money.js';
import { DAY_MS, HOUR_MS } from './time.js';
import type { AccountSnapshot, PeriodTotals, Snapshot, WindowState } from './snapshot.js';
import type { Decision } from './decision.js';
import { LIMIT_PERCENT, idealPercentAt } from './headroom.js';
import { burstPercent } from './burst.js';

const NOW = DateTime.fromISO('2026-11-25T15:00:00Z', { setZone: true });
const NOW_MS = NOW.toMillis();
const LADDER = ['claude-opus-4', 'claude-sonnet-4', 'claude-haiku-4', 'gpt-5-codex'] as const;
const PROVIDER: Record<string, string> = {
  'claude-opus-4': 'anthropic',
  'claude-sonnet-4': 'anthropic',
  'claude-haiku-4': 'anthropic',
  'gpt-5-codex': 'openai',
};

// Bounds on generated fleets: up to 4 accounts, 3 windows each, sequences of 30 operations. Larger
// fleets add no new ladder shapes, and these keep the whole file to a few seconds.
const MAX_ACCOUNTS = 4;
const MAX_OPS = 30;
// Estimates from $0.50 to $60 against capacities of $200–$1000: from a sliver to a third of a window.
const MIN_EST_CENTS = 50;
const MAX_EST_CENTS = 6000;
const NUM_RUNS = 80;

const percent = (maxWhole: number) => fc.integer({ min: 0, max: maxWhole * 100 }).map((n) => dec(n).div(100));
const cents = (min: number, max: number) => fc.integer({ min, max }).map((n) => dec(n).div(100));

// Usage skewed low, as in a healthy fleet, but reaching past 100% (providers report overage).
const usage = fc.oneof({ weight: 3, arbitrary: percent(40) }, { weight: 2, arbitrary: percent(105) });

interface AccountGen {
  models: string[];
  kind: 'subscription' | 'api';
  weekly: { used: Decimal; reserved: Decimal; resetInMs: number; capacity: string } | null;
  session: { used: Decimal; startedAgoMs: number } | null;
  opusWeek: Decimal | null;
  ceiling: { usd: Decimal; committed: Decimal; reserved: Decimal } | null;
  concurrency: { limit: number; inflight: number } | null;
}

const accountGen: fc.Arbitrary<AccountGen> = fc.record({
  models: fc.subarray([...LADDER], { minLength: 1 }).chain((ms) => {
    // One provider per account: keep the models of the provider of the first one.
    const p = PROVIDER[ms[0]!];
    return fc.constant(ms.filter((m) => PROVIDER[m] === p));
  }),
  kind: fc.constantFrom('subscription' as const, 'api' as const),
  weekly: fc.option(
    fc.record({
      used: usage,
      reserved: percent(5),
      resetInMs: fc.integer({ min: HOUR_MS, max: 7 * DAY_MS }),
      capacity: fc.constantFrom('200', '1000'),
    }),
  ),
  session: fc.option(
    fc.record({ used: percent(100), startedAgoMs: fc.integer({ min: 0, max: 6 * HOUR_MS }) }),
  ),
  opusWeek: fc.option(usage),
  ceiling: fc.option(
    fc.record({ usd: cents(2000, 20000), committed: cents(0, 20000), reserved: cents(0, 2000) }),
  ),
  concurrency: fc.option(
    fc.record({ limit: fc.integer({ min: 1, max: 3 }), inflight: fc.integer({ min: 0, max: 3 }) }),
  ),
});

function buildAccount(id: string, g: AccountGen): AccountSnapshot {
  const provider = PROVIDER[g.models[0]!]!;
  const windows: AccountInput['windows'] = [];
  const states: WindowState[] = [];
  if (g.weekly) {
    windows.push({ name: 'weekly', length: 'P7D', capacityUsd: g.weekly.capacity });
    states.push({
      name: 'weekly',
      usedPercent: g.weekly.used,
      reservedPercent: g.weekly.reserved,
      observedAt: NOW,
      resetAt: NOW.plus({ milliseconds: g.weekly.resetInMs }),
      confidence: 'provider',
    });
  }
  if (g.session) {
    windows.push({ name: 'session', length: 'PT5H', rolling: true, capacityUsd: '100' });
    states.push({
      name: 'session',
      usedPercent: g.session.used,
      reservedPercent: ZERO,
      observedAt: NOW,
      startedAt: NOW.minus({ milliseconds: g.session.startedAgoMs }),
      confidence: 'estimated',
    });
  }
  if (g.opusWeek && g.models.includes('claude-opus-4')) {
    windows.push({ name: 'opus-week', length: 'P7D', models: ['claude-opus-4'], capacityUsd: '500' });
    states.push({
      name: 'opus-week',
      usedPercent: g.opusWeek,
      reservedPercent: ZERO,
      observedAt: NOW,
      resetAt: NOW.plus({ days: 3 }),
      confidence: 'user',
    });
  }
  const ceiling = g.ceiling ?? (g.kind === 'api' ? { usd: dec(100), committed: ZERO, reserved: ZERO } : null);
  const account = accountSchema.parse({
    id,
    provider,
    kind: g.kind,
    models: g.models,
    windows,
    ...(ceiling ? { ceiling: { usd: ceiling.usd.toString(), period: 'P1D' } } : {}),
    ...(g.concurrency ? { concurrency: g.concurrency.limit } : {}),
  });
  const snap: AccountSnapshot = { account, windows: states, inflight: g.concurrency?.inflight ?? 0 };
  if (ceiling) snap.period = totals(ceiling.committed, ceiling.reserved);
  return snap;
}

function totals(committed: Decimal, reserved: Decimal): PeriodTotals {
  const start = NOW.startOf('day');
  return { start, end: start.plus({ days: 1 }), committedUsd: committed, reservedUsd: reserved };
}

const scenarioGen = fc.record({
  accounts: fc.array(accountGen, { minLength: 1, maxLength: MAX_ACCOUNTS }),
  model: fc.oneof(
    { weight: 3, arbitrary: fc.constant(LADDER[0]) },
    { weight: 2, arbitrary: fc.constant(LADDER[1]) },
    fc.constantFrom(LADDER[2], LADDER[3]),
  ),
  pickAccount: fc.option(fc.nat()),
  estimate: fc.oneof(
    { weight: 3, arbitrary: cents(MIN_EST_CENTS, 1000) },
    cents(MIN_EST_CENTS, MAX_EST_CENTS),
  ),
  urgency: fc.constantFrom('low' as const, 'normal' as const, 'high' as const, 'critical' as const),
  deadlineInMs: fc.option(fc.integer({ min: 0, max: 10 * DAY_MS }), { freq: 2 }),
  queue: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
  routing: fc.array(fc.nat({ max: MAX_ACCOUNTS - 1 }), { maxLength: MAX_ACCOUNTS }),
  // Up to three authorizations, each possibly scoped to one account.
  authorizations: fc.array(
    fc.record({
      kind: fc.constantFrom('rapid' as const, 'overspend' as const, 'urgency-bypass' as const),
      account: fc.option(fc.nat({ max: MAX_ACCOUNTS - 1 })),
      multiplier: fc.integer({ min: 2, max: 4 }),
      amountCents: fc.integer({ min: 100, max: 5000 }),
      fromAgoMs: fc.integer({ min: 0, max: 3 * DAY_MS }),
    }),
    { maxLength: 3 },
  ),
});

type Scenario = typeof scenarioGen extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario): { request: DispatchRequest; snapshot: Snapshot; policy: Policy } {
  const accounts = s.accounts.map((g, i) => buildAccount(`acc-${i}`, g));
  const authorizations = s.authorizations.map((a, i) =>
    authorizationSchema.parse({
      id: `auth-${i}`,
      kind: a.kind,
      scope: a.account !== null ? { account: `acc-${a.account}` } : {},
      ...(a.kind === 'rapid' ? { multiplier: String(a.multiplier) } : {}),
      ...(a.kind === 'overspend' ? { amountUsd: dec(a.amountCents).div(100).toString() } : {}),
      from: NOW.minus({ milliseconds: a.fromAgoMs }).toISO(),
      until: NOW.plus({ days: 2 }).toISO(),
      reason: 'test',
      createdBy: 'test',
    }),
  );
  const snapshot: Snapshot = { tenantId: 't', accounts, providers: {}, tenantInflight: 0, authorizations };
  const policy = policySchema.parse({
    ladder: [...LADDER],
    queue: { enabled: s.queue },
    routing: { order: [...new Set(s.routing.filter((i) => i < accounts.length).map((i) => `acc-${i}`))] },
  });
  const request = dispatchRequestSchema.parse({
    taskId: 't',
    taskClass: 'feature',
    model: s.model,
    estimate: { usd: s.estimate.toString() },
    urgency: s.urgency,
    agent: 'a',
    host: 'h',
    ...(s.pickAccount !== null ? { account: `acc-${s.pickAccount % accounts.length}` } : {}),
    ...(s.deadlineInMs !== null ? { deadline: NOW.plus({ milliseconds: s.deadlineInMs }).toISO() } : {}),
  });
  return { request, snapshot, policy };
}

const admitted = (d: Decision) =>
  d.decision === 'allow' || d.decision === 'reroute' || d.decision === 'downgrade';

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  // A deterministic Fisher–Yates driven by the generated seed (the core's tests never use Math.random).
  const out = [...xs];
  let x = seed | 1;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('gate properties', () => {
  it('a decision does not depend on the order of accounts, windows, models or authorizations in the input', () => {
    fc.assert(
      fc.property(scenarioGen, fc.integer(), (s, seed) => {
        const { request, snapshot, policy } = build(s);
        const shuffled: Snapshot = {
          ...snapshot,
          accounts: shuffle(snapshot.accounts, seed).map((a, i) => ({
            ...a,
            account: {
              ...a.account,
              windows: shuffle(a.account.windows, seed + i),
              models: shuffle(a.account.models, seed - i),
            },
            windows: shuffle(a.windows, seed * 7 + i),
          })),
          authorizations: shuffle(snapshot.authorizations, seed + 13),
        };
        const a = decide(request, snapshot, policy, NOW);
        const b = decide(request, shuffled, policy, NOW);
        expect(JSON.stringify(b)).toBe(JSON.stringify(a));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the scenario generator reaches every kind of decision (a fixed seed keeps this deterministic)', () => {
    const kinds: Record<string, number> = {};
    for (const sc of fc.sample(scenarioGen, { numRuns: 150, seed: 20261124 })) {
      const { request, snapshot, policy } = build(sc);
      const k = decide(request, snapshot, policy, NOW).decision;
      kinds[k] = (kinds[k] ?? 0) + 1;
    }
    for (const k of ['allow', 'reroute', 'downgrade', 'queue', 'refuse'])
      expect(kinds[k] ?? 0).toBeGreaterThan(0);
  });

  it('never downgrade, queue or refuse where the requested model fits on some mapped account', () => {
    fc.assert(
      fc.property(scenarioGen, (s) => {
        const { request, snapshot, policy } = build(s);
        const d = decide(request, snapshot, policy, NOW);
        if (d.decision === 'allow' || d.decision === 'reroute') return;
        for (const a of snapshot.accounts) {
          if (!a.account.models.includes(request.model)) continue;
          const direct = decide({ ...request, account: a.account.id }, snapshot, policy, NOW);
          expect(direct.decision).not.toBe('allow');
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never queue or refuse where a cheaper model on the ladder fits now', () => {
    fc.assert(
      fc.property(scenarioGen, (s) => {
        const { request, snapshot, policy } = build(s);
        const d = decide(request, snapshot, policy, NOW);
        if (admitted(d)) return;
        for (const model of LADDER.slice(LADDER.indexOf(request.model as (typeof LADDER)[number]))) {
          for (const a of snapshot.accounts) {
            if (!a.account.models.includes(model)) continue;
            expect(
              decide({ ...request, model, account: a.account.id }, snapshot, policy, NOW).decision,
            ).not.toBe('allow');
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never refuse where a queue would serve: a refusal means queueing is off, the deadline comes first, or nothing ever fits', () => {
    fc.assert(
      fc.property(scenarioGen, (s) => {
        const { request, snapshot, policy } = build(s);
        const d = decide(request, snapshot, policy, NOW);
        if (d.decision !== 'refuse' || !policy.queue.enabled) return;
        const { deadline: _deadline, ...noDeadline } = request;
        const open = decide(noDeadline, snapshot, policy, NOW);
        if (open.decision === 'queue') {
          expect(request.deadline).toBeDefined();
          expect(open.retryAt > request.deadline!).toBe(true);
        } else {
          expect(open.decision).toBe('refuse');
          expect(open.reason).toMatch(/exceeds a whole window or ceiling|serves/);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('an admitted task never takes a counted window past 100% nor a ceiling past its limit plus authorized overspend', () => {
    fc.assert(
      fc.property(scenarioGen, (s) => {
        const { request, snapshot, policy } = build(s);
        const d = decide(request, snapshot, policy, NOW);
        if (!admitted(d) || d.decision === 'queue' || d.decision === 'refuse') return;
        const a = snapshot.accounts.find((x) => x.account.id === d.account)!;
        for (const r of d.reserve.windows) {
          const st = a.windows.find((w) => w.name === r.window)!;
          expect(st.usedPercent.plus(st.reservedPercent).plus(r.percent).lte(LIMIT_PERCENT)).toBe(true);
        }
        if (a.period && a.account.ceiling) {
          const overspend = snapshot.authorizations
            .filter((x) => x.kind === 'overspend' && (x.scope.account ?? a.account.id) === a.account.id)
            .reduce((sum, x) => sum.plus(x.amountUsd ?? ZERO), ZERO);
          const after = a.period.committedUsd.plus(a.period.reservedUsd).plus(d.reserve.usd);
          expect(after.lte(a.account.ceiling.usd.plus(overspend))).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

// The gate-following model: one subscription account with one weekly window. Time advances by
// bounded gaps; each step either asks the gate for a task (estimate e ≥ actual) or commits the
// oldest task in flight at its actual size.
const WEEK_MS = 7 * DAY_MS;
const MAX_GAP_MS = 6 * HOUR_MS;
type Op =
  { kind: 'ask'; gapMs: number; usd: Decimal; actualShare: number } | { kind: 'commit'; gapMs: number };
const opGen: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('ask' as const),
    gapMs: fc.integer({ min: 0, max: MAX_GAP_MS }),
    usd: cents(MIN_EST_CENTS, MAX_EST_CENTS),
    actualShare: fc.integer({ min: 0, max: 100 }),
  }),
  fc.record({ kind: fc.constant('commit' as const), gapMs: fc.integer({ min: 0, max: MAX_GAP_MS }) }),
);

describe('following the gate', () => {
  it('with estimates ≥ actuals never exhausts a window before its reset nor runs ahead of the ideal line by more than B', () => {
    fc.assert(
      fc.property(
        fc.array(opGen, { maxLength: MAX_OPS }),
        fc.integer({ min: 0, max: WEEK_MS - 1 }),
        percent(20),
        (ops, startedAgo, u0) => {
          const start = NOW_MS - startedAgo;
          const resetMs = start + WEEK_MS;
          const account = accountSchema.parse({
            id: 'max',
            provider: 'anthropic',
            kind: 'subscription',
            models: ['claude-opus-4'],
            windows: [{ name: 'weekly', length: 'P7D', capacityUsd: '300' }],
          });
          const policy = policySchema.parse({ ladder: ['claude-opus-4'] });
          const ppu = dec(100).div(300);
          const B = burstPercent(policy.pacing.burst, LIMIT_PERCENT, WEEK_MS);
          // Start on or below the line so the invariant can hold from the first step.
          let used = u0.gt(idealPercentAt(LIMIT_PERCENT, start, resetMs, NOW_MS)) ? ZERO : u0;
          const inflight: { pct: Decimal; actual: Decimal }[] = [];
          let t = NOW_MS;
          for (const op of ops) {
            t += op.gapMs;
            if (t >= resetMs) break;
            const now = DateTime.fromMillis(t, { zone: 'UTC' });
            if (op.kind === 'commit') {
              const task = inflight.shift();
              if (task) used = used.plus(task.actual);
            } else {
              const reserved = inflight.reduce((a, x) => a.plus(x.pct), ZERO);
              const state: WindowState = {
                name: 'weekly',
                usedPercent: used,
                reservedPercent: reserved,
                observedAt: now,
                resetAt: DateTime.fromMillis(resetMs, { zone: 'UTC' }),
                confidence: 'provider',
              };
              const snap: Snapshot = {
                tenantId: 't',
                accounts: [{ account, windows: [state], inflight: inflight.length }],
                providers: {},
                tenantInflight: inflight.length,
                authorizations: [],
              };
              const request = dispatchRequestSchema.parse({
                taskId: 't',
                taskClass: 'c',
                model: 'claude-opus-4',
                estimate: { usd: op.usd.toString() },
                agent: 'a',
                host: 'h',
              });
              const d = decide(request, snap, policy, now);
              if (d.decision === 'allow') {
                const pct = op.usd.times(ppu);
                inflight.push({ pct, actual: pct.times(op.actualShare).div(100) });
              }
            }
            const reserved = inflight.reduce((a, x) => a.plus(x.pct), ZERO);
            const ideal = idealPercentAt(LIMIT_PERCENT, start, resetMs, t);
            // Never exhausted before the reset, never ahead of the line by more than B.
            expect(used.plus(reserved).lte(LIMIT_PERCENT)).toBe(true);
            expect(used.plus(reserved).minus(ideal).lte(B)).toBe(true);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('no sequence of gate + commit (actual ≤ estimate) exceeds a hard ceiling, per account or per provider', () => {
    fc.assert(
      fc.property(
        fc.array(opGen, { maxLength: MAX_OPS }),
        cents(1000, 20000),
        cents(1000, 30000),
        (ops, accountCeiling, providerCeiling) => {
          const mk = (id: string) =>
            accountSchema.parse({
              id,
              provider: 'openai',
              kind: 'api',
              models: ['gpt-5-codex'],
              ceiling: { usd: accountCeiling.toString(), period: 'P1D' },
            });
          const accounts = [mk('key-a'), mk('key-b')];
          const policy = policySchema.parse({
            ladder: ['gpt-5-codex'],
            ceilings: { providers: { openai: { usd: providerCeiling.toString(), period: 'P1D' } } },
          });
          const committed = new Map<string, Decimal>(accounts.map((a) => [a.id, ZERO]));
          const inflight: { account: string; usd: Decimal; actual: Decimal }[] = [];
          const reservedOf = (id?: string) =>
            inflight
              .filter((x) => id === undefined || x.account === id)
              .reduce((a, x) => a.plus(x.usd), ZERO);
          const sum = (m: Map<string, Decimal>) => [...m.values()].reduce((a, b) => a.plus(b), ZERO);
          for (const op of ops) {
            if (op.kind === 'commit') {
              const task = inflight.shift();
              if (task) committed.set(task.account, committed.get(task.account)!.plus(task.actual));
            } else {
              const snap: Snapshot = {
                tenantId: 't',
                accounts: accounts.map((account) => ({
                  account,
                  windows: [],
                  period: totals(committed.get(account.id)!, reservedOf(account.id)),
                  inflight: inflight.filter((x) => x.account === account.id).length,
                })),
                providers: {
                  openai: { inflight: inflight.length, period: totals(sum(committed), reservedOf()) },
                },
                tenantInflight: inflight.length,
                authorizations: [],
              };
              const request = dispatchRequestSchema.parse({
                taskId: 't',
                taskClass: 'c',
                model: 'gpt-5-codex',
                estimate: { usd: op.usd.toString() },
                agent: 'a',
                host: 'h',
              });
              const d = decide(request, snap, policy, NOW);
              if (admitted(d) && d.decision !== 'queue' && d.decision !== 'refuse') {
                inflight.push({
                  account: d.account,
                  usd: op.usd,
                  actual: op.usd.times(op.actualShare).div(100),
                });
              }
            }
            for (const a of accounts) {
              expect(committed.get(a.id)!.plus(reservedOf(a.id)).lte(accountCeiling)).toBe(true);
            }
            expect(sum(committed).plus(reservedOf()).lte(providerCeiling)).toBe(true);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
