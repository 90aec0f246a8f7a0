import fc from 'fast-check';
// An independent JavaScript port of the reference MurmurHash3, as a test-only dependency.
// @ts-expect-error -- the package ships no types; its x86.hash128(bytes) returns 32 hex digits.
import murmur from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';
import { fingerprint, FINGERPRINT_BYTES, KeySet } from './key-set.js';

const reference = (key: string): string =>
  (murmur as { x86: { hash128: (b: Uint8Array) => string } }).x86.hash128(Buffer.from(key, 'utf8'));

// The empty text hashes to zero, which marks an empty slot; its fingerprint is 1, 0, 0, 0 instead.
const EMPTY = `00000001${'0'.repeat(24)}`;

function hex(key: string): string {
  const w = new Uint32Array(4);
  fingerprint(key, w, 0);
  return [...w].map((x) => x.toString(16).padStart(8, '0')).join('');
}

// Keys as the import makes them, and any text at all: every tail length, multi-byte and lone surrogates.
const key = fc.oneof(
  fc
    .tuple(
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 24, maxLength: 24 }),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 24, maxLength: 24 }),
    )
    .map(([m, r]) => `msg_${m}:req_${r}`),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ maxLength: 300 }),
);

describe('fingerprint', () => {
  it('is MurmurHash3_x86_128 of the UTF-8 bytes, as the reference computes it', () => {
    fc.assert(
      fc.property(key, (k) => {
        expect(hex(k)).toBe(k === '' ? EMPTY : reference(k));
      }),
      { numRuns: 3000 },
    );
    // Fixed values, so that a change of either implementation is seen: the .keys files depend on them.
    expect(hex('')).toBe(EMPTY);
    expect(hex('msg_01:req_01')).toBe('784bc166439836f3d467a84f2eedf883');
  });
});

describe('KeySet', () => {
  it('answers has and add as a Set of the keys does, and keeps them through its bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('add', 'has'), key), { maxLength: 3000 }), (ops) => {
        const set = new KeySet();
        const model = new Set<string>();
        for (const [op, k] of ops) {
          if (op === 'add') expect(set.add(k)).toBe(!model.has(k));
          else expect(set.has(k)).toBe(model.has(k));
          if (op === 'add') model.add(k);
        }
        expect(set.size).toBe(model.size);
        const bytes = set.bytes();
        expect(bytes.length).toBe(model.size * FINGERPRINT_BYTES);
        const again = KeySet.fromBytes(bytes);
        expect(again.size).toBe(model.size);
        for (const k of model) expect(again.has(k)).toBe(true);
        for (const [, k] of ops) expect(again.has(k)).toBe(model.has(k));
        // bytesOf writes what bytes() holds, key by key.
        expect(
          KeySet.fromBytes(KeySet.bytesOf([...model]))
            .bytes()
            .equals(bytes),
        ).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('reads the whole records of a file cut mid-record, from an unaligned buffer too', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `msg_${i}:req_${i}`);
    const bytes = KeySet.bytesOf(keys);
    const unaligned = Buffer.concat([Buffer.from([0]), bytes, bytes.subarray(0, 7)]).subarray(1);
    const set = KeySet.fromBytes(unaligned);
    expect(set.size).toBe(5000);
    expect(keys.every((k) => set.has(k))).toBe(true);
    expect(set.has('msg_5000:req_5000')).toBe(false);
  });
});
