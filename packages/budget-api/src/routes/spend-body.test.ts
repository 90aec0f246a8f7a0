import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { spendBatchBody, spendBatchFastSchema, spendBatchSchema } from './spend-body.js';

// Runs per property: each generated body holds up to MAX_RECORDS records, valid ones and ones with a few
// fields made hostile, so a thousand bodies cover every field's refusals many times over in about a second.
const RUNS = 1_000;
// Records per generated body: enough for a refusal in the middle of a batch after accepted records.
const MAX_RECORDS = 4;

/**
 * A value both parsers' outputs can be compared by: decimals by their class and exact text, instants
 * by their class, instant and offset, objects by their own keys (so "absent" and "present but
 * undefined" stay apart).
 */
function canonical(v: unknown): unknown {
  if (v instanceof Decimal) return { decimal: v.toString(), money: v.constructor.name };
  if (DateTime.isDateTime(v)) return { instant: v.toISO(), zone: v.zoneName, millis: v.toMillis() };
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return { keys: Object.keys(v).sort(), fields: out };
  }
  return v;
}

/** What one parser made of a body: its output, or its issues exactly as a client would receive them. */
function outcome(schema: typeof spendBatchSchema, body: unknown): unknown {
  const r = schema.safeParse(body);
  return r.success
    ? { ok: canonical(r.data) }
    : { issues: JSON.parse(JSON.stringify(r.error.issues)) as unknown };
}

// Values that are not what any field wants: wrong types, JavaScript values JSON cannot carry, and
// objects that try prototype tricks.
// Marks a key to leave out of a generated record (unlike undefined, which is present).
const ABSENT = Symbol('absent');

const foreign = fc.constantFrom<unknown>(
  null,
  undefined,
  true,
  0,
  -1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  [],
  {},
  ['a'],
  { toString: 'x' },
  JSON.parse('{"__proto__": {"polluted": 1}}') as unknown,
);

const idText = fc.oneof(
  fc.constantFrom('acct-1', 'anthropic', 'claude-sonnet-4', 'a', 'A.b_c:d-9', 'x'.repeat(128)),
  fc.constantFrom('', '-lead', '.lead', 'has space', 'x'.repeat(129), 'é', 'a/b', 'a\u0000'),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/),
  fc.string({ maxLength: 12 }),
  foreign,
);

const labelText = fc.oneof(
  fc.constantFrom('host-1', 'claude code', 'ünïcode ✓', 'x'.repeat(256), ' spaced '),
  fc.constantFrom('', 'x'.repeat(257), 'tab\there', 'nl\n', 'del\u007f', '\u0000'),
  fc.string({ maxLength: 20, unit: 'binary' }),
  foreign,
);

const tokenCount = fc.oneof(
  fc.integer({ min: 0, max: 2_000_000 }),
  fc.constantFrom(0, -0, 1e12, 1e12 + 1, -1, 0.5, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER),
  fc.double(),
  fc.constantFrom<unknown>('5', '0', undefined),
  foreign,
);

const usdValue = fc.oneof(
  fc.constantFrom('0', '0.0123', '12.50', '1.5', '000.10', '1000000000000', '999999999999.9999999999'),
  fc.constantFrom(' 1.5 ', '\t2\n', '-0', '-0.00', '-1', '1e3', '.5', '5.', '1,5', '', '+1', 'NaN'),
  fc.constantFrom('1000000000000.0000000001', '1e12', '0x10', '٣'),
  fc.constantFrom(0, 0.1, 0.2, 1e-7, 1e12, 1e12 + 0.5, -0, -1e-9, 1e21, 5e-324),
  fc.stringMatching(/^-?\d{1,14}(\.\d{1,12})?$/),
  fc.double({ noNaN: true }),
  foreign,
);

const instantText = fc.oneof(
  fc.constantFrom(
    '2026-11-24T10:00:00Z',
    '2026-11-24T10:00:00.123Z',
    '2026-11-27T17:00:00-06:00',
    '2026-11-27T17:00:00+0530',
    '2026-11-27T17:00:00z',
    '  2026-11-24T10:00:00Z  ',
    '2000-01-01T00:00:00Z',
    '2200-01-01T00:00:00Z',
    '2026-W48-2T10:00:00Z',
    '2026-11-24T10:00Z',
  ),
  fc.constantFrom(
    '2026-11-24T10:00:00',
    '2026-02-30T00:00:00Z',
    '1999-12-31T23:59:59Z',
    '2200-01-01T00:00:00.001Z',
    '1970-01-01T00:00:00Z',
    'Z',
    'not a dateZ',
    '2026-11-24T25:00:00Z',
    '2026-11-24T10:00:00+24:00',
    '',
  ),
  fc
    .date({
      min: new Date('1995-01-01T00:00:00Z'),
      max: new Date('2205-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  foreign,
);

const kindValue = fc.oneof(fc.constantFrom<unknown>('actual', 'projected', 'Actual', 'other', ''), foreign);
const keyText = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }),
  fc.constantFrom('', 'k'.repeat(256), 'k'.repeat(257), ' ', '\u0000'),
  foreign,
);

const validId = fc.oneof(
  fc.constantFrom('acct-1', 'anthropic', 'claude-sonnet-4', 'feature', 'A.b_c:d-9', 'x'.repeat(128)),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/),
);
const validLabel = fc.oneof(
  fc.constantFrom('host-1', 'claude code', 'ünïcode ✓', ' spaced ', 'x'.repeat(256)),
  // The labels the core accepts are exactly those without control characters.
  // eslint-disable-next-line no-control-regex
  fc.string({ minLength: 1, maxLength: 20 }).filter((t) => !/[\u0000-\u001f\u007f]/.test(t)),
);
const validCount = fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(0, -0, 1e12, 2 ** 39));
const validUsd = fc.oneof(
  fc.constantFrom('0.0123', '1.5', '0', '000.10', ' 2.50 ', '-0', '1000000000000', 0.25, 0.1, 1e12, 1e-7),
  fc.stringMatching(/^\d{1,12}(\.\d{1,12})?$/),
  fc.double({ min: 0, max: 1e12, noNaN: true }),
);
const validInstant = fc.oneof(
  fc.constantFrom(
    '2026-11-24T10:00:00Z',
    '2026-11-27T17:00:00-06:00',
    '2026-11-27T17:00:00+0530',
    ' 2026-11-24T10:00:00.5z ',
  ),
  fc
    .date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2199-12-31T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
);

/** Each field's valid values, and the hostile ones a mutation puts in its place. */
const FIELDS: Record<
  string,
  { valid: fc.Arbitrary<unknown>; hostile: fc.Arbitrary<unknown>; optional: boolean }
> = {
  tenantId: { valid: validId, hostile: idText, optional: true },
  host: { valid: validLabel, hostile: labelText, optional: false },
  agent: { valid: validLabel, hostile: labelText, optional: false },
  mission: { valid: validLabel, hostile: labelText, optional: true },
  task: { valid: validLabel, hostile: labelText, optional: false },
  taskClass: { valid: validId, hostile: idText, optional: true },
  provider: { valid: validId, hostile: idText, optional: false },
  account: { valid: validId, hostile: idText, optional: false },
  model: { valid: validId, hostile: idText, optional: false },
  inputTokens: { valid: validCount, hostile: tokenCount, optional: true },
  outputTokens: { valid: validCount, hostile: tokenCount, optional: true },
  cacheReadTokens: { valid: validCount, hostile: tokenCount, optional: true },
  cacheWriteTokens: { valid: validCount, hostile: tokenCount, optional: true },
  usd: { valid: validUsd, hostile: usdValue, optional: false },
  kind: { valid: fc.constantFrom('actual', 'projected'), hostile: kindValue, optional: true },
  occurredAt: { valid: validInstant, hostile: instantText, optional: false },
  idempotencyKey: { valid: fc.string({ minLength: 1, maxLength: 30 }), hostile: keyText, optional: false },
};
const NAMES = Object.keys(FIELDS);

// A valid record: every required field, each optional one present, absent or present but undefined
// (which zod treats apart), and sometimes a key the schema does not know.
const validRecord = fc
  .record({
    fields: fc.record(
      Object.fromEntries(
        NAMES.map((n) => {
          const f = FIELDS[n] as (typeof FIELDS)[string];
          return [
            n,
            f.optional ? fc.option(fc.option(f.valid, { nil: undefined }), { nil: ABSENT }) : f.valid,
          ];
        }),
      ),
    ),
    extra: fc.option(fc.anything({ maxDepth: 1 }), { nil: ABSENT }),
  })
  .map(({ fields, extra }) => {
    const r: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) if (v !== ABSENT) r[k] = v;
    if (extra !== ABSENT) r.extra = extra;
    return r;
  });

// A record with a few fields made hostile or removed, so most refusals are of one field among valid ones.
const record = fc.oneof(
  { weight: 3, arbitrary: validRecord },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        validRecord,
        fc.array(
          fc.constantFrom(...NAMES).chain((name) =>
            fc.tuple(
              fc.constant(name),
              fc.oneof(
                // Mostly what is wrong for this very field, sometimes nothing, sometimes another's value.
                { weight: 6, arbitrary: (FIELDS[name] as (typeof FIELDS)[string]).hostile },
                { weight: 1, arbitrary: fc.constant<unknown>(ABSENT) },
                {
                  weight: 1,
                  arbitrary: fc
                    .constantFrom(...NAMES)
                    .chain((n) => (FIELDS[n] as (typeof FIELDS)[string]).hostile),
                },
              ),
            ),
          ),
          { minLength: 1, maxLength: 3 },
        ),
      )
      .map(([r, changes]) => {
        const out = { ...r };
        for (const [name, value] of changes) {
          if (value === ABSENT) delete out[name];
          else out[name] = value;
        }
        return out;
      }),
  },
);

const body = fc.oneof(
  { weight: 8, arbitrary: fc.record({ records: fc.array(record, { maxLength: MAX_RECORDS }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      records: fc.oneof(foreign, fc.array(foreign, { maxLength: 3 })),
      other: fc.anything(),
    }),
  },
  { weight: 1, arbitrary: fc.oneof(foreign, fc.anything()) },
);

const VALID_RECORD = {
  host: 'host-1',
  agent: 'claude-code',
  task: 't',
  provider: 'anthropic',
  account: 'acct-1',
  model: 'claude-sonnet-4',
  usd: '0.0123',
  occurredAt: '2026-11-24T10:00:00Z',
  idempotencyKey: 'k',
};

describe('the compiled spend body', () => {
  it('is compiled (zod hands back the schema itself when it cannot compile it)', () => {
    expect(spendBatchBody).not.toBe(spendBatchFastSchema);
    expect(() => z.compile(spendBatchFastSchema, { strict: true })).not.toThrow();
  });

  it('accepts, refuses and outputs exactly what the runtime schema does, hostile bodies included', () => {
    fc.assert(
      fc.property(body, (b) => {
        expect(outcome(spendBatchBody, b)).toEqual(outcome(spendBatchSchema, b));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses an empty batch and one record beyond the largest batch, with the runtime issues', () => {
    for (const n of [0, 10_001]) {
      const b = {
        records: Array.from({ length: n }, (_, i) => ({ ...VALID_RECORD, idempotencyKey: `k${i}` })),
      };
      const compiled = outcome(spendBatchBody, b);
      expect(compiled).toEqual(outcome(spendBatchSchema, b));
      expect(compiled).toHaveProperty('issues');
    }
  });

  it('never hands back the input objects it parsed, so the raw body stays as the client sent it', () => {
    const input = { records: [{ ...VALID_RECORD, extra: 1 }] };
    const parsed = spendBatchBody.parse(input);
    expect(parsed).not.toBe(input);
    expect(parsed.records[0]).not.toBe(input.records[0]);
    expect(input.records[0]).toEqual({ ...VALID_RECORD, extra: 1 });
  });
});
