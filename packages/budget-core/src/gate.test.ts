import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { decide, CONCURRENCY_RETRY_MS } from './gate.js';
import { accountSchema, type AccountInput } from './account.js';
import { authorizationSchema, type AuthorizationInput } from './authorization.js';
import { dispatchRequestSchema, type DispatchRequestInput } from './dispatch.js';
import { policySchema, type PolicyInput } from './policy.js';
import { dec } from './money.js';
import { DEFAULT_PRICES, estimateUsd } from './prices.js';
import type { AccountSnapshot, PeriodTotals, Snapshot, WindowState } from './snapshot.js';
import type { Decision } from './decision.js';

// Wed 25 Nov 2026 09:00 in Chicago; the weekly windows reset Fri 27 Nov 17:00 Chicago, so the
// period began Fri 20 Nov 17:00 and the ideal line stands at 112/168 = 66.6667%.
const NOW = DateTime.fromISO('2026-11-25T09:00:00-06:00', { setZone: true });
const FRI17 = DateTime.fromISO('2026-11-27T17:00:00-06:00', { setZone: true });
const OPUS = 'claude-opus-4';
const SONNET = 'claude-sonnet-4';
const HAIKU = 'claude-haiku-4';
const CODEX = 'gpt-5-codex';

function account(input: Partial<AccountInput> & { id: string }): AccountSnapshot['account'] {
  return accountSchema.parse({
    provider: 'anthropic',
    kind: 'subscription',
    models: [OPUS, SONNET, HAIKU],
    timezone: 'America/Chicago',
    // capacityUsd 1000: one USD is 0.1% of the week, so the numbers below read easily.
    windows: [{ name: 'weekly', length: 'P7D', capacityUsd: '1000' }],
    ...input,
  });
}

function weekly(used: string, extra: Partial<WindowState> = {}): WindowState {
  return {
    name: 'weekly',
    usedPercent: dec(used),
    reservedPercent: dec(0),
    observedAt: NOW,
    resetAt: FRI17,
    confidence: 'provider',
    ...extra,
  };
}

function snap(accounts: AccountSnapshot[], extra: Partial<Snapshot> = {}): Snapshot {
  return { tenantId: 't', accounts, providers: {}, tenantInflight: 0, authorizations: [], ...extra };
}

function req(extra: Partial<DispatchRequestInput> = {}) {
  return dispatchRequestSchema.parse({
    taskId: 'task-1',
    taskClass: 'feature',
    model: OPUS,
    estimate: { usd: '10' },
    agent: 'agent-1',
    host: 'host-1',
    ...extra,
  });
}

const policy = (p: PolicyInput = {}) => policySchema.parse({ ladder: [OPUS, SONNET, HAIKU, CODEX], ...p });
const period = (committed: string, reserved = '0'): PeriodTotals => ({
  start: NOW.startOf('day'),
  end: NOW.startOf('day').plus({ days: 1 }),
  committedUsd: dec(committed),
  reservedUsd: dec(reserved),
});
const auth = (a: Partial<AuthorizationInput> & Pick<AuthorizationInput, 'kind'>) =>
  authorizationSchema.parse({
    id: `auth-${a.kind}`,
    from: '2026-11-24T00:00:00Z',
    until: '2026-11-30T00:00:00Z',
    reason: 'release week',
    createdBy: 'ops',
    ...a,
  });

const A = (
  used: string,
  extra: Partial<AccountSnapshot> = {},
  acc: Partial<AccountInput> = {},
): AccountSnapshot => ({
  account: account({ id: 'max-a', ...acc }),
  windows: [weekly(used)],
  inflight: 0,
  ...extra,
});
const B = (
  used: string,
  extra: Partial<AccountSnapshot> = {},
  acc: Partial<AccountInput> = {},
): AccountSnapshot => ({
  account: account({ id: 'max-b', ...acc }),
  windows: [weekly(used)],
  inflight: 0,
  ...extra,
});
const kind = (d: Decision) => `${d.decision} ${d.account ?? '-'} ${d.model ?? '-'}`;

describe('decide', () => {
  it('allow the requested model on the requested account when it fits under the pace line', () => {
    const d = decide(req({ account: 'max-a' }), snap([A('40'), B('10')]), policy(), NOW);
    expect(kind(d)).toBe('allow max-a claude-opus-4');
    if (d.decision !== 'allow') throw new Error('unreachable');
    // $10 at 0.1%/USD = 1% of the week.
    expect(d.reserve.usd.toString()).toBe('10');
    expect(d.reserve.windows).toEqual([{ window: 'weekly', percent: dec('1') }]);
    expect(d.reason).toContain('1.0000% of weekly');
    expect(d.trace.find((s) => s.rule === 'window.pace')?.numbers).toEqual({
      estimate: '1.0000',
      headroom: '27.2619',
    });
    const pace = d.trace.find((s) => s.rule === 'window.state');
    expect(pace?.numbers).toMatchObject({
      used: '40',
      ideal: '66.6667',
      burst: '0.5952',
    });
  });

  it('allow on the mapped account with the most headroom when no account is asked, whatever the input order', () => {
    const one = decide(req(), snap([A('60'), B('20')]), policy(), NOW);
    const two = decide(req(), snap([B('20'), A('60')]), policy(), NOW);
    expect(kind(one)).toBe('allow max-b claude-opus-4');
    expect(two).toEqual(one);
  });

  it('break headroom ties by routing order, then account id', () => {
    expect(kind(decide(req(), snap([B('20'), A('20')]), policy(), NOW))).toBe('allow max-a claude-opus-4');
    const routed = policy({ routing: { order: ['max-b'] } });
    expect(kind(decide(req(), snap([A('20'), B('20')]), routed, NOW))).toBe('allow max-b claude-opus-4');
  });

  it('reroute the same model to another mapped account when the requested one is ahead of pace', () => {
    const d = decide(req({ account: 'max-a' }), snap([A('67'), B('30')]), policy(), NOW);
    expect(kind(d)).toBe('reroute max-b claude-opus-4');
    expect(d.reason).toContain('weekly window of max-a has 0.2619% headroom for a 1.0000% task');
  });

  it('downgrade to the next ladder model when an Opus-only week binds everywhere', () => {
    const windows = [
      { name: 'weekly', length: 'P7D', capacityUsd: '1000' },
      { name: 'opus-week', length: 'P7D', models: [OPUS], capacityUsd: '1000' },
    ];
    const s = snap([
      A('30', { windows: [weekly('30'), weekly('90', { name: 'opus-week' })] }, { windows }),
      B('50', { windows: [weekly('50'), weekly('95', { name: 'opus-week' })] }, { windows }),
    ]);
    const d = decide(req({ account: 'max-a' }), s, policy(), NOW);
    expect(kind(d)).toBe('downgrade max-a claude-sonnet-4');
    if (d.decision !== 'downgrade') throw new Error('unreachable');
    // Sonnet is not counted by the Opus week, so only the weekly window is reserved.
    expect(d.reserve.windows.map((w) => w.window)).toEqual(['weekly']);
  });

  it('downgrade across providers to codex when every Claude account is ahead of pace', () => {
    const codex: AccountSnapshot = {
      account: account({ id: 'codex-pro', provider: 'openai', models: [CODEX] }),
      windows: [weekly('10')],
      inflight: 0,
    };
    const d = decide(req(), snap([A('80'), B('85'), codex]), policy(), NOW);
    expect(kind(d)).toBe('downgrade codex-pro gpt-5-codex');
  });

  it('queue at the earliest fit when nothing fits now, with retryAt where the pace line makes room', () => {
    const d = decide(req({ account: 'max-a' }), snap([A('80'), B('80')]), policy({ ladder: [OPUS] }), NOW);
    expect(kind(d)).toBe('queue max-a claude-opus-4');
    if (d.decision !== 'queue') throw new Error('unreachable');
    // Needs ideal ≥ 80 + 1 − 0.5952 = 80.4048% of 168 h = 135.0800 h after Fri 20 Nov 17:00.
    const expected = DateTime.fromISO('2026-11-20T17:00:00-06:00').plus({
      milliseconds: Math.ceil(1.3508 * 3_600_000 * 100),
    });
    expect(Math.abs(d.retryAt.toMillis() - expected.toMillis())).toBeLessThan(1000);
    expect(d.reason).toContain('fits at');
  });

  it('queue at the cheaper floor when it fits earlier than the requested model', () => {
    const windows = [
      { name: 'weekly', length: 'P7D', capacityUsd: '1000' },
      { name: 'opus-week', length: 'P7D', models: [OPUS], capacityUsd: '1000' },
    ];
    // Opus is blocked until its week resets; sonnet only waits for the pace line.
    const s = snap([
      A('70', { windows: [weekly('67'), weekly('99.5', { name: 'opus-week' })] }, { windows }),
    ]);
    const d = decide(req({ account: 'max-a' }), s, policy({ ladder: [OPUS, SONNET] }), NOW);
    expect(kind(d)).toBe('queue max-a claude-sonnet-4');
  });

  it('refuse when queueing is forbidden, when the deadline comes first, and when the task exceeds a whole window', () => {
    const full = snap([A('80'), B('80')]);
    const p = policy({ ladder: [OPUS] });
    expect(
      decide(req(), full, policySchema.parse({ ladder: [OPUS], queue: { enabled: false } }), NOW).decision,
    ).toBe('refuse');
    const noQueueClass = policy({ ladder: [OPUS], taskClasses: { feature: { queue: false } } });
    expect(decide(req(), full, noQueueClass, NOW).reason).toContain('task class feature forbids queueing');
    const late = decide(req({ deadline: '2026-11-25T16:00:00Z' }), full, p, NOW);
    expect(late.decision).toBe('refuse');
    expect(late.reason).toContain('deadline');
    // $1500 is 150% of a 1000-USD week: it can never run.
    const huge = decide(req({ estimate: { usd: '1500' } }), snap([A('0'), B('0')]), p, NOW);
    expect(huge.decision).toBe('refuse');
    expect(huge.reason).toContain('exceeds a whole window');
    expect(
      decide(
        req({ taskClass: 'nothing' }),
        full,
        policy({ taskClasses: { nothing: { accounts: ['ghost'] } } }),
        NOW,
      ).reason,
    ).toContain('No account is mapped');
  });

  it('hold an api account to its hard ceiling: committed + reserved + estimate ≤ ceiling', () => {
    const api: AccountSnapshot = {
      account: account({ id: 'api-key', kind: 'api', windows: [], ceiling: { usd: '100', period: 'P1D' } }),
      windows: [],
      period: period('85', '5'),
      inflight: 0,
    };
    const p = policy({ ladder: [OPUS] });
    expect(decide(req({ estimate: { usd: '10' } }), snap([api]), p, NOW).decision).toBe('allow');
    const over = decide(req({ estimate: { usd: '10.01' } }), snap([api]), p, NOW);
    expect(over.decision).toBe('queue');
    if (over.decision !== 'queue') throw new Error('unreachable');
    expect(over.retryAt.toMillis()).toBe(period('0').end.toMillis());
    expect(over.trace.some((s) => s.rule === 'ceiling.account' && s.outcome === 'fail')).toBe(true);
    // A $10 overspend authorization on the account lifts the ceiling by $10.
    const s = snap([api], {
      authorizations: [auth({ kind: 'overspend', amountUsd: '10', scope: { account: 'api-key' } })],
    });
    expect(decide(req({ estimate: { usd: '20' } }), s, p, NOW).decision).toBe('allow');
    // A provider ceiling binds too.
    const prov = policy({
      ladder: [OPUS],
      ceilings: { providers: { anthropic: { usd: '50', period: 'P1D' } } },
    });
    const ps = snap([{ ...api, period: period('0') }], {
      providers: { anthropic: { inflight: 0, period: period('45') } },
    });
    expect(decide(req({ estimate: { usd: '6' } }), ps, prov, NOW).decision).toBe('queue');
  });

  it('queue over a concurrency limit at a short retry, and reroute when another account has a slot', () => {
    const p = policy({ ladder: [OPUS], concurrency: { accounts: { 'max-a': 2 } } });
    const d = decide(req({ account: 'max-a' }), snap([A('10', { inflight: 2 }), B('10')]), p, NOW);
    expect(kind(d)).toBe('reroute max-b claude-opus-4');
    const tenant = policy({ ladder: [OPUS], concurrency: { tenant: 3 } });
    const q = decide(req(), snap([A('10'), B('10')], { tenantInflight: 3 }), tenant, NOW);
    expect(q.decision).toBe('queue');
    if (q.decision !== 'queue') throw new Error('unreachable');
    expect(q.retryAt.toMillis()).toBe(NOW.toMillis() + CONCURRENCY_RETRY_MS);
    expect(q.reason).toContain('tenant concurrency limit (3 of 3 in flight)');
    const prov = policy({ ladder: [OPUS], concurrency: { providers: { anthropic: 1 } } });
    expect(
      decide(req(), snap([A('10')], { providers: { anthropic: { inflight: 1 } } }), prov, NOW).decision,
    ).toBe('queue');
  });

  it('let a rapid authorization pace faster, but only in scope and while in force', () => {
    const p = policy({ ladder: [OPUS] });
    const base = [A('70')];
    expect(decide(req(), snap(base), p, NOW).decision).toBe('queue');
    const rapid = auth({ kind: 'rapid', multiplier: '2', scope: { taskClass: 'feature' } });
    expect(decide(req(), snap(base, { authorizations: [rapid] }), p, NOW).decision).toBe('allow');
    expect(
      decide(req({ taskClass: 'other' }), snap(base, { authorizations: [rapid] }), p, NOW).decision,
    ).toBe('queue');
    const revoked = { ...rapid, revokedAt: NOW.minus({ minutes: 1 }) };
    expect(decide(req(), snap(base, { authorizations: [revoked] }), p, NOW).decision).toBe('queue');
    const expired = { ...rapid, until: NOW };
    expect(decide(req(), snap(base, { authorizations: [expired] }), p, NOW).decision).toBe('queue');
    // Standing authorizations in the policy file count too.
    expect(
      decide(
        req(),
        snap(base),
        policy({
          ladder: [OPUS],
          authorizations: [
            {
              ...rapid,
              from: '2026-11-24T00:00:00Z',
              until: '2026-11-30T00:00:00Z',
              multiplier: '2',
              scope: {},
            } as AuthorizationInput,
          ],
        }),
        NOW,
      ).decision,
    ).toBe('allow');
  });

  it('let a high-urgency task skip pacing only under an urgency-bypass authorization, never past 100%', () => {
    const p = policy({ ladder: [OPUS] });
    const bypass = auth({ kind: 'urgency-bypass' });
    const s = snap([A('90')], { authorizations: [bypass] });
    expect(decide(req({ urgency: 'high' }), s, p, NOW).decision).toBe('allow');
    expect(decide(req({ urgency: 'normal' }), s, p, NOW).decision).toBe('queue');
    expect(decide(req({ urgency: 'critical' }), snap([A('90')]), p, NOW).decision).toBe('queue');
    // 99.5% used: a 1% task would pass the window's 100%.
    expect(
      decide(req({ urgency: 'critical' }), snap([A('99.5')], { authorizations: [bypass] }), p, NOW).decision,
    ).toBe('queue');
  });

  it('price a token estimate for the model it would run on', () => {
    const d = decide(req({ estimate: { tokens: 1_000_000 } }), snap([A('10')]), policy(), NOW);
    if (d.decision !== 'allow') throw new Error(d.reason);
    // 0.3×15 + 0.1×75 + 0.55×1.5 + 0.05×18.75 = 13.7625
    expect(d.reserve.usd.toString()).toBe('13.7625');
    const none = decide(
      req({ estimate: undefined }),
      snap([A('10')]),
      policy({ defaultEstimate: { usd: '3' } }),
      NOW,
    );
    expect(none.decision === 'allow' && none.reserve.usd.toString()).toBe('3');
  });

  it('price a dated snapshot as its model, and an unknown model at the dearest known price', () => {
    const tokens = { estimate: { tokens: 1_000_000 } };
    const source = (d: Decision) => d.trace.find((s) => s.rule === 'candidate')?.numbers?.estimateSource;
    // Sonnet, not Opus: Opus is the dearest model, so only a cheaper one shows which price was taken.
    const dated = `${SONNET}-20250514`;
    const d = decide(
      req({ ...tokens, model: dated }),
      snap([A('10', {}, { models: [dated] })]),
      policy(),
      NOW,
    );
    if (d.decision !== 'allow') throw new Error(d.reason);
    // 0.3×3 + 0.1×15 + 0.55×0.3 + 0.05×3.75 = 2.7525
    expect([d.reserve.usd.toString(), source(d)]).toEqual(['2.7525', 'request.tokens']);
    const unknown = decide(
      req({ ...tokens, model: 'house-model' }),
      snap([A('10', {}, { models: ['house-model'] })]),
      policy(),
      NOW,
    );
    if (unknown.decision !== 'allow') throw new Error(unknown.reason);
    const dearest = Object.keys(DEFAULT_PRICES)
      .map((m) => estimateUsd(DEFAULT_PRICES, m, 1_000_000) ?? dec(0))
      .reduce((a, b) => (b.gt(a) ? b : a));
    expect([unknown.reserve.usd.toString(), source(unknown)]).toEqual([
      dearest.toString(),
      'dearest-known-price',
    ]);
  });

  it('roll a passed fixed reset forward and treat the old signal as a previous period', () => {
    const stale = {
      ...A('99'),
      windows: [
        weekly('99', { resetAt: FRI17.minus({ weeks: 1 }), observedAt: FRI17.minus({ weeks: 1, hours: 1 }) }),
      ],
    };
    expect(decide(req(), snap([stale]), policy(), NOW).decision).toBe('allow');
  });

  it('pace only windows that have a signal; budget a signal-less account by its ceiling alone', () => {
    const silent: AccountSnapshot = { account: account({ id: 'quiet' }), windows: [], inflight: 0 };
    const d = decide(req(), snap([silent]), policy(), NOW);
    expect(d.decision).toBe('allow');
    expect(d.reason).toContain('no paced window');
  });
});

describe('authorizations across the accounts of one decision', () => {
  it('each tested account gets exactly the authorizations whose scope covers it, by account and by provider', () => {
    // Nothing fits (every week is past its pace line), so every account is tested and traced.
    const sub = (id: string, provider: string, models: string[]): AccountSnapshot => ({
      account: account({ id, provider, models }),
      windows: [weekly('95')],
      inflight: 0,
    });
    const d = decide(
      req(),
      snap(
        [
          sub('ant-1', 'anthropic', [OPUS, SONNET, HAIKU]),
          sub('ant-2', 'anthropic', [OPUS, SONNET, HAIKU]),
          sub('ant-3', 'anthropic', [OPUS, SONNET, HAIKU]),
          sub('oai-1', 'openai', [CODEX]),
          sub('oai-2', 'openai', [CODEX]),
        ],
        {
          authorizations: [
            auth({ id: 'over-ant', kind: 'overspend', amountUsd: '5', scope: { provider: 'anthropic' } }),
            auth({ id: 'rapid-ant-2', kind: 'rapid', multiplier: '1.5', scope: { account: 'ant-2' } }),
            auth({ id: 'over-oai-2', kind: 'overspend', amountUsd: '7', scope: { account: 'oai-2' } }),
            auth({ id: 'bypass-all', kind: 'urgency-bypass', scope: {} }),
          ],
        },
      ),
      policy(),
      NOW,
    );
    const active: Record<string, string> = Object.fromEntries(
      d.trace
        .filter((s) => s.rule === 'authorization.active')
        .map((s): [string, string] => [
          s.account ?? '-',
          `${s.numbers?.ids} ${s.numbers?.overspendUsd} ${s.numbers?.rapidMultiplier}`,
        ]),
    );
    expect(active).toEqual({
      'ant-1': 'bypass-all,over-ant 5 1',
      'ant-2': 'bypass-all,over-ant,rapid-ant-2 5 1.5',
      'ant-3': 'bypass-all,over-ant 5 1',
      'oai-1': 'bypass-all 0 1',
      'oai-2': 'bypass-all,over-oai-2 7 1',
    });
  });
});

describe('a malformed snapshot', () => {
  it('is refused with a clear error when it lists an account twice', () => {
    expect(() => decide(req(), snap([A('40'), B('10'), A('90')]), policy(), NOW)).toThrow(
      'the snapshot lists account max-a twice',
    );
  });
});

describe('the ranking in the trace', () => {
  it('lists the accounts best first in route.rank.order, also when their ids are integers', () => {
    const sub = (id: string, used: string): AccountSnapshot => ({
      account: account({ id }),
      windows: [weekly(used)],
      inflight: 0,
    });
    const d = decide(req(), snap([sub('1', '40'), sub('2', '20'), sub('10', '5')]), policy(), NOW);
    expect(kind(d)).toBe('allow 10 claude-opus-4');
    const rank = d.trace.find((s) => s.rule === 'route.rank');
    expect(rank?.order).toEqual(['10', '2', '1']);
    // What the order field is for: an object lists integer-like keys in ascending order.
    expect(Object.keys(rank?.numbers ?? {})).toEqual(['1', '2', '10']);
    // Headroom: the pace line 66.6667 % + the burst 0.5952 % (an hour of the week) − usage.
    expect(rank?.numbers).toEqual({ '10': '62.2619', '2': '47.2619', '1': '27.2619' });
  });
});

describe('routing between prepaid and metered accounts', () => {
  // A metered key starts each day with its whole ceiling free, so by headroom share it would always
  // outrank a subscription that has room; the simulator showed real money spent first that way.
  const key: AccountSnapshot = {
    account: account({
      id: 'api-key',
      provider: 'anthropic',
      kind: 'api',
      windows: [],
      ceiling: { usd: '50', period: 'P1D' },
    }),
    windows: [],
    period: period('0'),
    inflight: 0,
  };

  it('tries a subscription with room before a metered key, by default', () => {
    const d = decide(req({ estimate: { usd: '1' } }), snap([key, A('60')]), policy(), NOW);
    expect(kind(d)).toBe(`allow max-a ${OPUS}`);
  });

  it('falls back to the metered key when the subscription has no room', () => {
    const d = decide(req({ estimate: { usd: '1' } }), snap([key, A('99')]), policy(), NOW);
    expect(kind(d)).toBe(`reroute api-key ${OPUS}`);
  });

  it('ranks by headroom alone when the policy turns meteredLast off', () => {
    const d = decide(
      req({ estimate: { usd: '1' } }),
      snap([key, A('60')]),
      policy({ routing: { meteredLast: false } }),
      NOW,
    );
    expect(kind(d)).toBe(`allow api-key ${OPUS}`);
  });
});
