import { describe, expect, it } from 'vitest';
import {
  accountSchema,
  policySchema,
  spendRecordSchema,
  instantSchema,
  dispatchRequestSchema,
} from './index.js';

describe('domain schemas', () => {
  it('parse a subscription account with a fixed weekly and a rolling session window', () => {
    const a = accountSchema.parse({
      id: 'max-a',
      provider: 'anthropic',
      kind: 'subscription',
      models: ['claude-opus-4', 'claude-sonnet-4'],
      timezone: 'America/Chicago',
      windows: [
        { name: 'weekly', length: 'P7D' },
        { name: 'session', length: 'PT5H', rolling: true },
        { name: 'opus-week', length: 'P7D', models: ['claude-opus-4'] },
      ],
    });
    expect(a.windows[1]?.rolling).toBe(true);
    expect(a.windows[0]?.length.as('days')).toBe(7);
  });

  it('reject an api account without a ceiling and a window counting an unknown model', () => {
    const r = accountSchema.safeParse({
      id: 'k',
      provider: 'openai',
      kind: 'api',
      models: ['gpt-5-codex'],
      windows: [{ name: 'w', length: 'P1D', models: ['nope'] }],
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['ceiling', 'windows.0.models']);
  });

  it('keep money exact: 0.1 + 0.2 is 0.3', () => {
    const base = {
      host: 'h',
      agent: 'a',
      task: 't',
      provider: 'anthropic',
      account: 'max-a',
      model: 'claude-opus-4',
      occurredAt: '2026-11-24T10:00:00Z',
      idempotencyKey: 'k',
    };
    const a = spendRecordSchema.parse({ ...base, usd: '0.1' });
    const b = spendRecordSchema.parse({ ...base, usd: 0.2 });
    expect(a.usd.plus(b.usd).toString()).toBe('0.3');
  });

  it('reject instants without an offset and absurd dates', () => {
    expect(instantSchema.safeParse('2026-11-24T10:00:00').success).toBe(false);
    expect(instantSchema.safeParse('1970-01-01T00:00:00Z').success).toBe(false);
    expect(instantSchema.safeParse('2026-02-30T00:00:00Z').success).toBe(false);
    expect(instantSchema.parse('2026-11-27T17:00:00-06:00').toUTC().toISO()).toBe('2026-11-27T23:00:00.000Z');
  });

  it('accept {} as a policy with every default', () => {
    const p = policySchema.parse({});
    expect(p.reservations.ttl.as('minutes')).toBe(30);
    expect(p.urgency.priority.critical).toBe(3);
  });

  it('require an estimate with tokens or usd when one is given', () => {
    const r = dispatchRequestSchema.safeParse({
      taskId: 't',
      taskClass: 'feature',
      model: 'claude-opus-4',
      estimate: {},
      agent: 'a',
      host: 'h',
    });
    expect(r.success).toBe(false);
  });
});
