import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { idSchema, labelSchema } from '@mosaic/budget-core';
import { surelyId, surelyLabel } from './quick.js';

// Strings of every kind: printable, any code unit (control characters, lone surrogates), and ones
// shaped like ids, up to past the 128- and 256-character limits.
const anyText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,140}$/),
);

describe('the hand-checked flag rules of an import with nothing new', () => {
  it('never take for an id what idSchema refuses, and agree with it otherwise', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        expect(surelyId(s)).toBe(idSchema.safeParse(s).success);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never take for a label what labelSchema refuses, and agree with it otherwise', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        expect(surelyLabel(s)).toBe(labelSchema.safeParse(s).success);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuse what is not text at all', () => {
    for (const v of [undefined, null, 3, ['a'], {}]) {
      expect(surelyId(v)).toBe(false);
      expect(surelyLabel(v)).toBe(false);
    }
  });
});
