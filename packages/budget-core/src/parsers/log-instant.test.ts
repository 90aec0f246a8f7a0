import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { EARLIEST, LATEST } from '../time.js';
import { readLogInstant, readLogMillis } from './log-instant.js';

// The span the system accepts (time.ts EARLIEST..LATEST), a little wider on both sides.
const FROM = Date.UTC(1999, 0, 1);
const TO = Date.UTC(2201, 0, 1);

/** What readLogInstant gave before its fast path: luxon's ISO parser, kept as the reference. */
function byLuxon(text: string): DateTime | undefined {
  try {
    const dt = DateTime.fromISO(text, { setZone: true });
    return dt < EARLIEST || dt > LATEST ? undefined : dt;
  } catch {
    return undefined;
  }
}

function same(text: string): void {
  const got = readLogInstant(text);
  const want = byLuxon(text);
  expect(got?.toISO() ?? null).toBe(want?.toISO() ?? null);
  expect(got?.zoneName ?? null).toBe(want?.zoneName ?? null);
  if (got && want) expect(got.equals(want)).toBe(true);
  expect(readLogMillis(text) ?? null).toBe(want?.toMillis() ?? null);
}

describe('readLogInstant and readLogMillis', () => {
  it('reads a UTC millisecond timestamp as luxon fromISO does, zone included', () => {
    fc.assert(
      fc.property(fc.integer({ min: FROM, max: TO }), (ms) => same(new Date(ms).toISOString())),
      { numRuns: 2000 },
    );
  });

  it.each([
    '2025-02-30T00:00:00.000Z',
    '2025-02-29T12:00:00.000Z',
    '2024-02-29T12:00:00.000Z',
    '2025-04-31T00:00:00.000Z',
    '2025-01-01T24:00:00.000Z',
    '2025-01-01T23:60:00.000Z',
    '2025-13-01T00:00:00.000Z',
    '1999-12-31T23:59:59.999Z',
    '2200-01-01T00:00:00.000Z',
    '2200-01-01T00:00:00.001Z',
    '2025-09-01T10:00:00Z',
    '2025-09-01T12:00:00.000+02:00',
    'not a time',
  ])('agrees with luxon on %s', (text) => same(text));
});
