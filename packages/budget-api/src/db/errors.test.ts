import { describe, expect, it } from 'vitest';
import { isDatabaseDown } from './errors.js';

describe('isDatabaseDown', () => {
  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    ['an administrator shutdown', Object.assign(new Error('terminating connection'), { code: '57P01' })],
    ['a connection exception class', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['a pool timeout', new Error('timeout exceeded when trying to connect')],
    // pg raises this on a ROLLBACK sent over a socket that already broke; it hid the real cause once.
    [
      'a broken client asked to roll back',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    ['a cause chain', new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) })],
  ])('recognises %s', (_name, error) => {
    expect(isDatabaseDown(error)).toBe(true);
  });

  it.each([
    ['a syntax error', Object.assign(new Error('syntax error'), { code: '42601' })],
    ['a unique violation', Object.assign(new Error('duplicate key'), { code: '23505' })],
    ['a plain bug', new TypeError('undefined is not a function')],
    ['a non-error', 'ECONNREFUSED'],
  ])('does not mistake %s for an outage', (_name, error) => {
    expect(isDatabaseDown(error)).toBe(false);
  });
});
