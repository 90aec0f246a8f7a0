/**
 * The import's dedupe keys as 128-bit fingerprints in one typed array: what the `.keys` file beside an
 * import's state holds (16 bytes per key, appended to) and the set the import checks every entry
 * against. A `Set` of the key texts held one string per entry ever imported — ~58 bytes of file and
 * several times that of heap each — and building it was a fifth of an incremental import's CPU (~0.17
 * s for 126,000 keys); loading fingerprints costs one read and a pass over typed arrays.
 *
 * Two different keys have the same fingerprint with probability 2^-128 per pair: for a billion keys
 * about 10^-21, so a new entry is never taken for one already sent in practice.
 */

/** Bytes per key in the file and the table. */
export const FINGERPRINT_BYTES = 16;

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
/** A word's scramble before it is folded into its lane: multiply, rotate, multiply. */
const scramble = (k: number, a: number, r: number, b: number): number =>
  Math.imul(rotl(Math.imul(k, a), r), b);
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

// Keys are UTF-8 encoded into one scratch buffer, grown for a longer key.
let scratch = new Uint8Array(256);
const encoder = new TextEncoder();

/**
 * MurmurHash3_x86_128 (Austin Appleby's, seed 0) of the key's UTF-8 bytes, as four 32-bit words
 * written to `out` at `at`: the hash of the reference implementation, which key-set.test.ts checks
 * against an independent implementation, so a `.keys` file means the same to every version. An
 * all-zero result, which marks an empty slot in the table, becomes 1, 0, 0, 0.
 */
export function fingerprint(key: string, out: Uint32Array, at: number): void {
  if (key.length * 3 > scratch.length) scratch = new Uint8Array(key.length * 3);
  const len = encoder.encodeInto(key, scratch).written;
  const b = scratch;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  const blocks = len - (len % 16);
  const word = (i: number): number =>
    (b[i] as number) |
    ((b[i + 1] as number) << 8) |
    ((b[i + 2] as number) << 16) |
    ((b[i + 3] as number) << 24);
  for (let i = 0; i < blocks; i += 16) {
    // The four lanes of the reference's block mix, each folding its word in and then its neighbour.
    h1 = (Math.imul(rotl(h1 ^ scramble(word(i), C1, 15, C2), 19) + h2, 5) + 0x561ccd1b) | 0;
    h2 = (Math.imul(rotl(h2 ^ scramble(word(i + 4), C2, 16, C3), 17) + h3, 5) + 0x0bcaa747) | 0;
    h3 = (Math.imul(rotl(h3 ^ scramble(word(i + 8), C3, 17, C4), 15) + h4, 5) + 0x96cd1c35) | 0;
    h4 = (Math.imul(rotl(h4 ^ scramble(word(i + 12), C4, 18, C1), 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  // The tail: up to 15 bytes, little-endian into k4..k1 as the reference's fall-through switch does.
  const rest = len - blocks;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  for (let j = rest - 1; j >= 0; j--) {
    const byte = b[blocks + j] as number;
    if (j >= 12) k4 |= byte << ((j - 12) * 8);
    else if (j >= 8) k3 |= byte << ((j - 8) * 8);
    else if (j >= 4) k2 |= byte << ((j - 4) * 8);
    else k1 |= byte << (j * 8);
  }
  if (rest > 12) h4 ^= scramble(k4, C4, 18, C1);
  if (rest > 8) h3 ^= scramble(k3, C3, 17, C4);
  if (rest > 4) h2 ^= scramble(k2, C2, 16, C3);
  if (rest > 0) h1 ^= scramble(k1, C1, 15, C2);
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[at] = (h1 | h2 | h3 | h4) === 0 ? 1 : h1;
  out[at + 1] = h2;
  out[at + 2] = h3;
  out[at + 3] = h4;
}

/** A set of dedupe keys held as their fingerprints: open addressing, linear probing, at most half full. */
export class KeySet {
  private table = new Uint32Array(4 * 1024);
  private mask = 1023;
  private count = 0;
  private readonly probe = new Uint32Array(4);

  /** A set of the fingerprints in `bytes` (16 per key, as {@link KeySet.bytesOf} writes them). */
  static fromBytes(bytes: Uint8Array): KeySet {
    const set = new KeySet();
    const words = wordsOf(bytes.subarray(0, bytes.length - (bytes.length % FINGERPRINT_BYTES)));
    set.reserve(words.length / 4);
    for (let at = 0; at < words.length; at += 4) set.insert(words, at);
    return set;
  }

  /** The fingerprints of `keys` as the file holds them. */
  static bytesOf(keys: readonly string[]): Buffer {
    const words = new Uint32Array(keys.length * 4);
    for (let i = 0; i < keys.length; i++) fingerprint(keys[i] as string, words, i * 4);
    return bytesOf(words);
  }

  /** How many keys the set holds. */
  get size(): number {
    return this.count;
  }

  /** Whether `key` (or a key with its fingerprint) is in the set. */
  has(key: string): boolean {
    fingerprint(key, this.probe, 0);
    return this.slotOf(this.probe, 0) >= 0;
  }

  /** Adds `key`; false when it was held already. */
  add(key: string): boolean {
    fingerprint(key, this.probe, 0);
    return this.insert(this.probe, 0);
  }

  /** Every fingerprint held, as the file holds them (to rewrite it whole). */
  bytes(): Buffer {
    const words = new Uint32Array(this.count * 4);
    let o = 0;
    const t = this.table;
    for (let s = 0; s < t.length; s += 4) {
      if (isEmpty(t, s)) continue;
      words[o] = t[s] as number;
      words[o + 1] = t[s + 1] as number;
      words[o + 2] = t[s + 2] as number;
      words[o + 3] = t[s + 3] as number;
      o += 4;
    }
    return bytesOf(words);
  }

  /** The table index holding the fingerprint at `w[at]`, or -(the empty index where it would go) - 1. */
  private slotOf(w: Uint32Array, at: number): number {
    const t = this.table;
    const w0 = w[at] as number;
    const w1 = w[at + 1] as number;
    const w2 = w[at + 2] as number;
    const w3 = w[at + 3] as number;
    for (let i = w0 & this.mask; ; i = (i + 1) & this.mask) {
      const s = i * 4;
      if (t[s] === w0 && t[s + 1] === w1 && t[s + 2] === w2 && t[s + 3] === w3) return s;
      if (isEmpty(t, s)) return -s - 1;
    }
  }

  /** Adds the fingerprint at `w[at]`; false when it was held already. */
  private insert(w: Uint32Array, at: number): boolean {
    const found = this.slotOf(w, at);
    if (found >= 0) return false;
    const s = -found - 1;
    this.table[s] = w[at] as number;
    this.table[s + 1] = w[at + 1] as number;
    this.table[s + 2] = w[at + 2] as number;
    this.table[s + 3] = w[at + 3] as number;
    this.count += 1;
    if (this.count * 2 > this.mask + 1) this.reserve(this.count * 2);
    return true;
  }

  /** Grows the table to hold `n` keys at most half full. */
  private reserve(n: number): void {
    let slots = this.mask + 1;
    while (slots < n * 2) slots *= 2;
    if (slots === this.mask + 1) return;
    const old = this.table;
    this.table = new Uint32Array(slots * 4);
    this.mask = slots - 1;
    this.count = 0;
    for (let s = 0; s < old.length; s += 4) if (!isEmpty(old, s)) this.insert(old, s);
  }
}

const isEmpty = (t: Uint32Array, s: number): boolean =>
  t[s] === 0 && t[s + 1] === 0 && t[s + 2] === 0 && t[s + 3] === 0;

// The file is little-endian; on such a machine (every one Node runs on in practice) its bytes are the
// words as they are, and only the other kind pays for a conversion.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The words of a whole number of records, read little-endian from bytes at any alignment. */
function wordsOf(bytes: Uint8Array): Uint32Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0)
    return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const words = new Uint32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
  return words;
}

/** Words as the file's little-endian bytes. */
function bytesOf(words: Uint32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(words.buffer, words.byteOffset, words.byteLength);
  const out = Buffer.allocUnsafe(words.length * 4);
  for (let i = 0; i < words.length; i++) out.writeUInt32LE(words[i] as number, i * 4);
  return out;
}
