// `pnpm demo`: a fixed fleet at a fixed instant, its pace table and a few gate decisions. Everything
// here is deterministic (no clock, no randomness), so the output is the same on every machine.
import { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import { accountSchema } from './account.js';
import { authorizationSchema } from './authorization.js';
import { dispatchRequestSchema, type DispatchRequestInput } from './dispatch.js';
import { policySchema } from './policy.js';
import { dec, ZERO } from './money.js';
import type { AccountSnapshot, Snapshot, WindowState } from './snapshot.js';
import { paceWindow } from './pacing.js';
import { decide } from './gate.js';

const ZONE = 'America/Chicago';
/** Wednesday 25 November 2026, 09:00 in Chicago. */
const NOW = DateTime.fromISO('2026-11-25T09:00:00', { zone: ZONE });
const FRI17 = DateTime.fromISO('2026-11-27T17:00:00', { zone: ZONE });

function state(name: string, used: string, extra: Partial<WindowState> = {}): WindowState {
  return {
    name,
    usedPercent: dec(used),
    reservedPercent: ZERO,
    observedAt: NOW.minus({ minutes: 5 }),
    confidence: 'provider',
    ...extra,
  };
}

const maxA: AccountSnapshot = {
  account: accountSchema.parse({
    id: 'claude-max-a',
    provider: 'anthropic',
    kind: 'subscription',
    models: ['claude-opus-4-1', 'claude-sonnet-4-5', 'claude-haiku-4-5'],
    timezone: ZONE,
    windows: [
      { name: 'weekly', length: 'P7D', capacityUsd: '1500' },
      { name: 'opus-week', length: 'P7D', models: ['claude-opus-4-1'], capacityUsd: '800' },
      { name: 'session', length: 'PT5H', rolling: true, capacityUsd: '120' },
    ],
  }),
  windows: [
    state('weekly', '42', { resetAt: FRI17 }),
    state('opus-week', '61', { resetAt: FRI17, confidence: 'user' }),
    state('session', '35', { startedAt: NOW.minus({ minutes: 90 }), resetAt: NOW.plus({ minutes: 210 }) }),
  ],
  inflight: 2,
};

const codex: AccountSnapshot = {
  account: accountSchema.parse({
    id: 'chatgpt-pro',
    provider: 'openai',
    kind: 'subscription',
    models: ['gpt-5-codex', 'gpt-5-mini'],
    timezone: 'Europe/Berlin',
    windows: [
      { name: 'primary', length: 'PT5H', rolling: true, capacityUsd: '100' },
      { name: 'secondary', length: 'P7D', capacityUsd: '1000' },
    ],
  }),
  windows: [
    state('primary', '10', { startedAt: NOW.minus({ hours: 1 }) }),
    // No reset reported for the week: the gate assumes the latest plausible one.
    state('secondary', '28', { confidence: 'unknown' }),
  ],
  inflight: 1,
};

const apiKey: AccountSnapshot = {
  account: accountSchema.parse({
    id: 'anthropic-api',
    provider: 'anthropic',
    kind: 'api',
    models: ['claude-sonnet-4-5', 'claude-haiku-4-5'],
    timezone: ZONE,
    ceiling: { usd: '150', period: 'P1D' },
  }),
  windows: [],
  period: {
    start: NOW.startOf('day'),
    end: NOW.startOf('day').plus({ days: 1 }),
    committedUsd: dec('96.40'),
    reservedUsd: dec('12.00'),
  },
  inflight: 3,
};

const snapshot: Snapshot = {
  tenantId: 'demo',
  accounts: [maxA, codex, apiKey],
  providers: { anthropic: { inflight: 5 }, openai: { inflight: 1 } },
  tenantInflight: 6,
  authorizations: [
    authorizationSchema.parse({
      id: 'incident-4711',
      kind: 'urgency-bypass',
      scope: { taskClass: 'incident' },
      from: '2026-11-25T00:00:00-06:00',
      until: '2026-11-26T00:00:00-06:00',
      reason: 'production incident: fixes may skip pacing',
      createdBy: 'oncall@example.com',
    }),
  ],
};

const policy = policySchema.parse({
  ladder: ['claude-opus-4-1', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-5-codex', 'gpt-5-mini'],
  routing: { order: ['claude-max-a', 'chatgpt-pro', 'anthropic-api'] },
  taskClasses: {
    review: { accounts: ['anthropic-api', 'chatgpt-pro'] },
    refactor: { queue: false },
  },
  concurrency: { accounts: { 'anthropic-api': 4 } },
});

const f = (d: Decimal, places = 2) => d.toFixed(places);
const row = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 10)).join(' ');

function paceTable(): void {
  const widths = [14, 10, 6, 7, 8, 8, 8, 8, 9, 22, 9];
  console.log(`Pace at ${NOW.toFormat('ccc d LLL yyyy HH:mm ZZZZ')}\n`);
  console.log(
    row(
      [
        'account',
        'window',
        'used%',
        'ideal%',
        'lead',
        'status',
        '%/hour',
        '%/day',
        'headroom',
        'resets (account zone)',
        'confidence',
      ],
      widths,
    ),
  );
  for (const a of snapshot.accounts) {
    for (const spec of a.account.windows) {
      const p = paceWindow({
        spec,
        state: a.windows.find((w) => w.name === spec.name),
        timezone: a.account.timezone,
        now: NOW,
        policy,
      });
      console.log(
        row(
          [
            a.account.id,
            spec.name,
            f(p.usedPercent),
            f(p.idealPercent),
            (p.leadPercent.isNegative() ? '' : '+') + f(p.leadPercent),
            p.status,
            f(p.targetPerHourPercent, 3),
            f(p.targetPerDayPercent),
            f(p.headroomPercent),
            p.resetAt.toFormat('ccc d LLL HH:mm ZZZZ'),
            p.confidence,
          ],
          widths,
        ),
      );
    }
    if (a.period && a.account.ceiling) {
      const used = a.period.committedUsd.plus(a.period.reservedUsd);
      console.log(
        row([a.account.id, 'ceiling', '', '', '', '', '', '', '', '', ''], widths).trimEnd() +
          ` $${f(used)} of $${f(a.account.ceiling.usd)} per ${a.account.ceiling.period} (committed + reserved)`,
      );
    }
  }
}

const requests: { title: string; req: Omit<DispatchRequestInput, 'taskId' | 'agent' | 'host'> }[] = [
  {
    title: 'A small Opus feature task on the Max account',
    req: { taskClass: 'feature', model: 'claude-opus-4-1', account: 'claude-max-a', estimate: { usd: '6' } },
  },
  {
    title: 'A large Opus task: the 5-hour session is the binding window',
    req: { taskClass: 'feature', model: 'claude-opus-4-1', account: 'claude-max-a', estimate: { usd: '40' } },
  },
  {
    title: 'A review priced from tokens (2M tokens of Sonnet 4.5)',
    req: { taskClass: 'review', model: 'claude-sonnet-4-5', estimate: { tokens: 2_000_000 } },
  },
  {
    title: 'A big Opus task that nothing can take now',
    req: { taskClass: 'feature', model: 'claude-opus-4-1', estimate: { usd: '90' } },
  },
  {
    title: 'The same task in a class that may not queue',
    req: { taskClass: 'refactor', model: 'claude-opus-4-1', estimate: { usd: '90' } },
  },
  {
    title: 'A critical incident fix under an urgency-bypass authorization',
    req: {
      taskClass: 'incident',
      model: 'claude-opus-4-1',
      account: 'claude-max-a',
      estimate: { usd: '30' },
      urgency: 'critical',
    },
  },
];

function decisions(): void {
  console.log('\nGate decisions\n');
  for (const [i, { title, req }] of requests.entries()) {
    const request = dispatchRequestSchema.parse({
      taskId: `task-${i + 1}`,
      agent: 'agent-1',
      host: 'host-1',
      ...req,
    });
    const d = decide(request, snapshot, policy, NOW);
    const where = d.decision === 'refuse' ? '' : ` → ${d.model} on ${d.account}`;
    const when =
      d.decision === 'queue' ? ` at ${d.retryAt.setZone(ZONE).toFormat('ccc d LLL HH:mm ZZZZ')}` : '';
    console.log(
      `${i + 1}. ${title}\n   ${d.decision.toUpperCase()}${where}${when}\n   ${d.reason}\n   (trace: ${d.trace.length} steps)\n`,
    );
  }
}

paceTable();
decisions();
