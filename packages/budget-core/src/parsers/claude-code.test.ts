import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineSchema, parseClaudeCodeLine, plainRow } from './claude-code.js';

// Values a field may hold in a real or broken transcript: the right type, the wrong one, and the
// edges of the token count rule (negative, fractional, above 1e12).
const anyValue = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom(0, -0, 1, -1, 1.5, 1e12, 1e12 + 1, 2 ** 53, null, true),
  fc.constant([]),
  fc.constant({}),
);
// Each field usually holds what a real line holds, sometimes a wrong value, sometimes nothing: a
// line with one bad field among good ones is the case the check must not wave through.
const field = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 1, arbitrary: anyValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
const count = field(fc.integer({ min: 0, max: 5_000_000 }));
const usage = fc.record({
  input_tokens: count,
  output_tokens: count,
  cache_creation_input_tokens: count,
  cache_read_input_tokens: count,
  cache_creation: field(fc.record({ ephemeral_5m_input_tokens: count, ephemeral_1h_input_tokens: count })),
});
const line = field(
  fc.record({
    type: fc.constantFrom('assistant', 'user'),
    timestamp: field(fc.constant('2025-09-01T10:00:00.000Z')),
    sessionId: field(fc.uuid()),
    requestId: field(fc.constant('req_1')),
    costUSD: field(fc.double({ min: 0, max: 100, noNaN: true })),
    message: field(
      fc.record({ id: field(fc.constant('msg_1')), model: field(fc.constant('m')), usage: field(usage) }),
    ),
  }),
);
// Enough runs that each field is wrong, alone, a few dozen times.
const RUNS = 5000;

describe('plainRow, the schema-free reading of a transcript line', () => {
  it('accepts only lines the schema accepts, and reads the same fields from them', () => {
    fc.assert(
      fc.property(line, (value) => {
        const json: unknown = JSON.parse(JSON.stringify(value ?? null));
        const row = plainRow(json);
        if (row === undefined) return;
        const parsed = lineSchema.safeParse(json);
        expect(parsed.success).toBe(true);
        expect(row).toMatchObject(parsed.data ?? {});
      }),
      { numRuns: RUNS },
    );
  });

  it('takes the usual assistant line without the schema', () => {
    const json: unknown = JSON.parse(
      '{"type":"assistant","timestamp":"2025-09-01T10:00:00.000Z","sessionId":"s","requestId":"r",' +
        '"message":{"id":"m","model":"claude-sonnet-4-5","usage":{"input_tokens":3,"output_tokens":9,' +
        '"cache_creation_input_tokens":0,"cache_read_input_tokens":12,' +
        '"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0}}}}',
    );
    expect(plainRow(json)).toBe(json);
  });

  it('leaves a line it refuses to the schema, which names the problem', () => {
    const r = parseClaudeCodeLine(
      '{"timestamp":"2025-09-01T10:00:00.000Z","message":{"usage":{"input_tokens":-1,"output_tokens":1}}}',
    );
    expect(r.kind).toBe('malformed');
  });
});
