import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { dec } from '@mosaic/budget-core';
import { GateStates } from './state-cache.js';
import { totalsKey, windowKey, type GateState } from './snapshot.js';

const START = '2026-11-24T00:00:00.000Z';
const startMs = DateTime.fromISO(START).toMillis();

function state(): GateState {
  return {
    now: DateTime.fromISO('2026-11-24T12:00:00Z', { zone: 'utc' }),
    version: 3,
    held: {
      id: 'r0',
      decision: 'allow',
      account_id: 'a',
      model: 'm',
      expires_at: START,
      usd: '1',
      windows: [],
    },
    windows: new Map([
      [
        windowKey('a', 'weekly'),
        {
          name: 'weekly',
          usedPercent: dec(10),
          observedAt: DateTime.fromISO(START, { zone: 'utc' }),
          unsignaledUsd: dec(0),
          reservedPercent: dec('0.5'),
          confidence: 'provider' as const,
        },
      ],
    ]),
    inflight: { account: new Map([['a', 1]]), provider: new Map([['p', 1]]), total: 1 },
    totals: new Map([
      [totalsKey('account', 'a', 'P1D', startMs), { committedUsd: dec(2), reservedUsd: dec('0.25') }],
    ]),
    estimator: { version: 1, cells: {} },
  };
}

const change = {
  account: 'a',
  provider: 'p',
  usd: '0.10',
  holds: [{ scope: 'account', key: 'a', period: 'P1D', periodStart: START }],
  windows: [{ window: 'weekly', percent: '0.2' }],
};

describe('GateStates', () => {
  it('holds a state for its TTL, moving its clock on, and never what one task holds', () => {
    const states = new GateStates(200, 1_000);
    states.remember('t', state(), 1_000);
    const held = states.fresh('t', 1_150);
    expect(held?.now.toISO()).toBe('2026-11-24T12:00:00.150Z');
    expect(held?.held).toBeUndefined();
    expect(states.fresh('t', 1_201)).toBeUndefined();
    // A clock that went back is not trusted either.
    states.remember('t', state(), 1_000);
    expect(states.fresh('t', 999)).toBeUndefined();
  });

  it('past its TTL sends one caller to read while the others decide from it, up to its maximum age', () => {
    const states = new GateStates(200, 1_000);
    states.remember('t', state(), 0);
    expect(states.fresh('t', 201)).toBeUndefined();
    // The read is in flight: nobody else is sent, and the held clock still moves on.
    expect(states.fresh('t', 202)?.now.toISO()).toBe('2026-11-24T12:00:00.202Z');
    expect(states.fresh('t', 1_000)).toBeDefined();
    // A read that never landed: past the maximum age everyone reads.
    expect(states.fresh('t', 1_001)).toBeUndefined();
    expect(states.fresh('t', 1_002)).toBeUndefined();
    // A read that landed starts a new TTL, and the next refresh sends one caller again.
    states.remember('t', state(), 1_002);
    expect(states.fresh('t', 1_100)).toBeDefined();
    expect(states.fresh('t', 1_203)).toBeUndefined();
    expect(states.fresh('t', 1_204)).toBeDefined();
  });

  it('forgets on demand: the next caller reads', () => {
    const states = new GateStates(200, 1_000);
    states.remember('t', state(), 0);
    states.forget('t');
    expect(states.fresh('t', 1)).toBeUndefined();
  });

  it('applies its own reservations and releases exactly, never below zero, without touching earlier reads', () => {
    const states = new GateStates(200);
    states.remember('t', state(), 0);
    const before = states.fresh('t', 0);
    const seen = before?.totals.get(totalsKey('account', 'a', 'P1D', startMs));
    states.reserved('t', change);
    let s = states.fresh('t', 1);
    expect(s?.totals.get(totalsKey('account', 'a', 'P1D', startMs))?.reservedUsd.toString()).toBe('0.35');
    expect(s?.windows.get(windowKey('a', 'weekly'))?.reservedPercent.toString()).toBe('0.7');
    expect([s?.inflight.account.get('a'), s?.inflight.provider.get('p'), s?.inflight.total]).toEqual([
      2, 2, 2,
    ]);
    // What a decision already read is not changed under it.
    expect(seen?.reservedUsd.toString()).toBe('0.25');
    for (let i = 0; i < 5; i++) states.released('t', change);
    s = states.fresh('t', 2);
    expect(s?.totals.get(totalsKey('account', 'a', 'P1D', startMs))?.reservedUsd.toString()).toBe('0');
    expect(s?.windows.get(windowKey('a', 'weekly'))?.reservedPercent.toString()).toBe('0');
    expect(s?.inflight.total).toBe(0);
  });

  it('forgets a state that has no row for a period a reservation took (it must be read fresh)', () => {
    const states = new GateStates(200);
    states.remember('t', state(), 0);
    states.reserved('t', { ...change, holds: [{ ...change.holds[0]!, period: 'P1W' }] });
    expect(states.fresh('t', 1)).toBeUndefined();
  });
});
