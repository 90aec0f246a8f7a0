import { expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { describeOnBackends } from '../test-support/backends.js';
import { pgArray } from './pg-array.js';

// Arrays per property run; each is one round trip, and twenty elements mix plain and hostile texts.
const RUNS = 150;
const MAX_ELEMENTS = 20;

// Every character a text column can hold (PostgreSQL refuses NUL), with the ones array syntax treats
// specially made common: quotes, backslashes, braces, commas, spaces, and the word NULL.
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }).map((t) => t.replaceAll('\u0000', '')),
  fc.constantFrom(
    '',
    ' ',
    'NULL',
    'null',
    '"',
    '\\',
    '\\"',
    '{',
    '}',
    ',',
    '{a,b}',
    'a b',
    '\t\n',
    '\ud800',
    'é✓',
  ),
  fc.stringMatching(/^[A-Za-z0-9._:-]{1,16}$/),
);

describeOnBackends('pgArray', (env) => {
  it("reads back as exactly the texts and nulls it was given, as the driver's own array parameter does", async () => {
    const { database } = env();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(text, { nil: null }), { maxLength: MAX_ELEMENTS }),
        async (values) => {
          const { rows } = await sql<{
            a: (string | null)[];
          }>`select ${pgArray(values)}::text[] as a`.execute(database.db);
          const { rows: driver } = await sql<{ a: (string | null)[] }>`select ${values}::text[] as a`.execute(
            database.db,
          );
          expect(rows[0]?.a).toEqual(driver[0]?.a);
          // A lone surrogate cannot travel as UTF-8 (it arrives as U+FFFD, whichever way it is passed).
          expect(rows[0]?.a).toEqual(values.map((v) => v?.replace(/[\ud800-\udfff]/gu, '\ufffd') ?? null));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("reads back counts, decimals and instants exactly as the driver's own array parameters do", async () => {
    const { database } = env();
    const read = async (counts: unknown, decimals: unknown, instants: unknown): Promise<unknown> =>
      (
        await sql`select ${counts}::bigint[]::text[] as c, ${decimals}::numeric[]::text[] as d,
          ${instants}::timestamptz[]::text[] as t`.execute(database.db)
      ).rows[0];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 1e12 }), { maxLength: MAX_ELEMENTS }),
        fc.array(
          fc.oneof(fc.stringMatching(/^-?\d{1,13}(\.\d{1,20})?$/), fc.constantFrom('1e-7', '1.5e+3', '-0')),
          { maxLength: MAX_ELEMENTS },
        ),
        fc.array(
          fc
            .date({
              min: new Date('2000-01-01T00:00:00Z'),
              max: new Date('2200-01-01T00:00:00Z'),
              noInvalidDate: true,
            })
            .map((d) => d.toISOString()),
          { maxLength: MAX_ELEMENTS },
        ),
        async (counts, decimals, instants) => {
          expect(await read(pgArray(counts), pgArray(decimals), pgArray(instants))).toEqual(
            await read(counts, decimals, instants),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });
});

it('writes a plain column as a literal and leaves one that needs escaping to the driver', () => {
  expect(pgArray(['a', null, 'b c', 1])).toBe('{"a",null,"b c",1}');
  const hostile = ['say "hi"', 'back\\slash'];
  expect(pgArray(hostile)).toBe(hostile);
});
