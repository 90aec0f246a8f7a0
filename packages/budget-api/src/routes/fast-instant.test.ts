import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { instantSchema } from '@mosaic/budget-core';
import { commonInstant, fastInstantSchema, instantFromMillis } from './fast-instant.js';

// Runs per property: the fields below are drawn around every boundary (month and day ends, leap days,
// offsets, the accepted years), so a few thousand strings meet each one many times.
const RUNS = 5_000;

/** Everything a caller can observe of a parsed instant, and the refusal's issues exactly. */
function outcome(schema: typeof instantSchema, input: unknown): unknown {
  const r = schema.safeParse(input);
  if (!r.success) return { issues: JSON.parse(JSON.stringify(r.error.issues)) as unknown };
  const dt = r.data;
  return {
    luxon: DateTime.isDateTime(dt),
    iso: dt.toISO(),
    millis: dt.toMillis(),
    offset: dt.offset,
    zone: dt.zoneName,
    zoneType: dt.zone.type,
    fixed: dt.zone.isUniversal,
    locale: dt.locale,
    calendar: dt.outputCalendar,
    numbering: dt.numberingSystem,
    valid: dt.isValid,
    fields: dt.toObject(),
  };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

// Each field of the common shape, drawn across and just beyond its valid range.
const shaped = fc
  .record({
    year: fc.oneof(fc.integer({ min: 1998, max: 2202 }), fc.constantFrom(0, 50, 1970, 9999)),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.oneof(fc.integer({ min: 0, max: 32 }), fc.constantFrom(28, 29, 30, 31)),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 61 }),
    second: fc.integer({ min: 0, max: 61 }),
    fraction: fc.option(fc.stringMatching(/^\d{1,11}$/), { nil: undefined }),
    zone: fc.oneof(
      fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+05:30', '-06:00', '+14:00', '-14:00', '+0530', '+05'),
      fc
        .record({
          sign: fc.constantFrom('+', '-'),
          hours: fc.integer({ min: 0, max: 25 }),
          minutes: fc.integer({ min: 0, max: 61 }),
        })
        .map(({ sign, hours, minutes }) => `${sign}${pad(hours, 2)}:${pad(minutes, 2)}`),
    ),
    separator: fc.constantFrom('T', 'T', 'T', 't', ' '),
    padding: fc.constantFrom('', '', '', ' ', '\t', '\n '),
  })
  .map(
    ({ year, month, day, hour, minute, second, fraction, zone, separator, padding }) =>
      `${padding}${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${separator}${pad(hour, 2)}:${pad(minute, 2)}:` +
      `${pad(second, 2)}${fraction === undefined ? '' : `.${fraction}`}${zone}${padding}`,
  );

// Instants as JavaScript writes them, the shape most clients send.
const written = fc
  .date({ min: new Date('1999-06-01T00:00:00Z'), max: new Date('2200-06-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

// Other ISO shapes luxon reads (week and ordinal dates, no seconds, basic format) and plain garbage.
const otherShapes = fc.oneof(
  fc.constantFrom(
    '2026-W48-2T10:00:00Z',
    '2026-328T10:00:00Z',
    '2026-11-24T10:00Z',
    '20261124T100000Z',
    '2026-11-24T10Z',
    '2026-11-24T10:00:00,5Z',
    '2026-11-24T24:00:00Z',
    '2026-11-24T10:00:00+24:00',
    '2026-11-24T10:00:00.Z',
    '+002026-11-24T10:00:00Z',
    '2026-11-24',
    '',
    ' ',
    // The ends of the accepted years, to the millisecond and across offsets.
    '2000-01-01T00:00:00Z',
    '1999-12-31T23:59:59.999Z',
    '2000-01-01T05:29:59.999+05:30',
    '2200-01-01T00:00:00Z',
    '2200-01-01T00:00:00.001Z',
    '2199-12-31T18:00:00-06:00',
    '2199-12-31T18:00:00.001-06:00',
  ),
  fc.string({ maxLength: 30 }).map((t) => `${t}Z`),
  fc.string({ maxLength: 30 }),
);

const anyInput = fc.oneof(
  { weight: 6, arbitrary: shaped },
  { weight: 3, arbitrary: written },
  { weight: 2, arbitrary: otherShapes },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
);

describe('fastInstantSchema', () => {
  it('accepts, refuses and outputs exactly what the core instant schema does', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        expect(outcome(fastInstantSchema, input)).toEqual(outcome(instantSchema, input));
      }),
      { numRuns: RUNS },
    );
  });

  it('reads every instant JavaScript writes within the accepted years itself, without luxon', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2200-01-01T00:00:00Z'),
          noInvalidDate: true,
        }),
        (d) => {
          expect(commonInstant(d.toISOString())?.toMillis()).toBe(d.getTime());
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("shares luxon's default Locale between its DateTimes on this luxon, which derive like fromMillis's", () => {
    // Were a luxon upgrade to change its constructor, the load-time check falls back to fromMillis:
    // correct, but the saving would be gone unnoticed without this.
    expect(instantFromMillis.name).toBe('sharedLocaleInstant');
    const a = commonInstant('2026-03-29T01:30:00+05:45') as DateTime;
    const b = commonInstant('2026-10-25T23:59:59.999Z') as DateTime;
    expect((a as unknown as { loc: unknown }).loc).toBe((b as unknown as { loc: unknown }).loc);
    for (const [dt, text] of [
      [a, '2026-03-29T01:30:00+05:45'],
      [b, '2026-10-25T23:59:59.999Z'],
    ] as const) {
      const reference = DateTime.fromISO(text, { setZone: true });
      for (const derive of [
        (d: DateTime) => d.setZone('Europe/Berlin').toISO(),
        (d: DateTime) => d.plus({ days: 1, hours: 3 }).toISO(),
        (d: DateTime) => d.startOf('week').toISO(),
        (d: DateTime) => d.toFormat('cccc d LLLL yyyy HH:mm ZZZZ'),
        (d: DateTime) => d.setLocale('de').toLocaleString(DateTime.DATETIME_FULL),
      ]) {
        expect(derive(dt)).toBe(derive(reference));
      }
    }
  });

  it('leaves days that do not exist, leap seconds and far offsets to luxon', () => {
    for (const text of [
      '2026-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-11-24T10:00:60Z',
      '2026-11-24T10:00:00+15:00',
      '1999-12-31T23:59:59Z',
      '2200-01-01T00:00:00.001Z',
    ]) {
      expect(commonInstant(text)).toBeUndefined();
    }
    expect(commonInstant('2028-02-29T00:00:00Z')?.toISO()).toBe('2028-02-29T00:00:00.000Z');
  });
});
