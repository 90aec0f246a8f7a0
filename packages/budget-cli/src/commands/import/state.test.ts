import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KeySet } from './key-set.js';
import {
  appendKeys,
  fingerprint,
  keysPath,
  loadKeys,
  loadState,
  saveState,
  seenPath,
  statFacts,
  unchangedSince,
  writeKeys,
  type FileState,
} from './state.js';

const dir = mkdtempSync(join(tmpdir(), 'mosaic-import-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function savedFor(path: string, offset: number): FileState {
  return { offset, fingerprint: fingerprint(path, offset), ...statFacts(statSync(path)) };
}

describe('unchangedSince', () => {
  it('holds for a file as it was saved, and not once it grows, is rewritten or is replaced', () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, '{"a":1}\n');
    const held = savedFor(file, 8);
    expect(unchangedSince(held, statSync(file))).toBe(true);

    appendFileSync(file, '{"b":2}\n');
    expect(unchangedSince(held, statSync(file))).toBe(false);

    // Same size, other content, later mtime: a rewrite.
    writeFileSync(file, '{"c":3}\n');
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect(unchangedSince(savedFor(file, 8), statSync(file))).toBe(true);
    expect(unchangedSince(held, statSync(file))).toBe(false);

    // Another file moved into its place: another inode, even with the same size and mtime.
    const now = savedFor(file, 8);
    expect(unchangedSince({ ...now, ino: (now.ino ?? 0) + 1 }, statSync(file))).toBe(false);
  });

  it('does not hold for state saved by a version that kept no stat facts', () => {
    const file = join(dir, 'old.jsonl');
    writeFileSync(file, '{"a":1}\n');
    const old: FileState = { offset: 8, fingerprint: fingerprint(file, 8) };
    expect(unchangedSince(old, statSync(file))).toBe(false);
    expect(unchangedSince(undefined, statSync(file))).toBe(false);
  });
});

describe('the dedupe file', () => {
  const key = fc.stringMatching(/^msg_[0-9a-f]{1,8}:req_[0-9a-f]{1,8}$/);
  const has = (keys: KeySet, all: string[]): boolean[] => all.map((k) => keys.has(k));

  it('gives back every key appended or written, once each, whatever the batches', () => {
    fc.assert(
      fc.property(fc.array(fc.array(key, { maxLength: 20 }), { maxLength: 8 }), key, (batches, other) => {
        const path = join(dir, `k-${Math.random().toString(36).slice(2)}.keys`);
        const none = join(dir, 'none.seen');
        for (const b of batches) appendKeys(path, b);
        const { keys, fromText } = loadKeys(path, none);
        const all = batches.flat();
        expect(fromText).toBe(false);
        expect(keys.size).toBe(new Set(all).size);
        expect(has(keys, all).every(Boolean)).toBe(true);
        expect(keys.has(other)).toBe(all.includes(other));
        writeKeys(path, KeySet.fromBytes(KeySet.bytesOf(['only'])).bytes(), none);
        const after = loadKeys(path, none).keys;
        expect([after.size, after.has('only')]).toEqual([1, true]);
      }),
      { numRuns: 50 },
    );
  });

  it('reads a missing file as empty, and cuts a partial last record so that appends stay whole', () => {
    expect(loadKeys(join(dir, 'none.keys'), join(dir, 'none.seen')).keys.size).toBe(0);
    const path = join(dir, 'partial.keys');
    appendKeys(path, ['msg_1:req_1']);
    appendFileSync(path, KeySet.bytesOf(['msg_2:req_2']).subarray(0, 9));
    const first = loadKeys(path, join(dir, 'none.seen')).keys;
    expect([first.has('msg_1:req_1'), first.has('msg_2:req_2')]).toEqual([true, false]);
    expect(statSync(path).size).toBe(16);
    appendKeys(path, ['msg_3:req_3']);
    const again = loadKeys(path, join(dir, 'none.seen')).keys;
    expect(['msg_1:req_1', 'msg_2:req_2', 'msg_3:req_3'].map((k) => again.has(k))).toEqual([
      true,
      false,
      true,
    ]);
  });

  it("reads an older version's text file until the keys are written, then removes it", () => {
    const state = join(dir, 'moved', 'claude-code-0123.json');
    const keysFile = keysPath(state);
    const seenFile = seenPath(state);
    rmSync(join(dir, 'moved'), { recursive: true, force: true });
    mkdirSync(join(dir, 'moved'), { recursive: true });
    writeFileSync(seenFile, 'msg_1:req_1\nmsg_2:req_2\nmsg_3:re');
    const loaded = loadKeys(keysFile, seenFile);
    expect(loaded.fromText).toBe(true);
    expect(['msg_1:req_1', 'msg_2:req_2', 'msg_3:req_3'].map((k) => loaded.keys.has(k))).toEqual([
      true,
      true,
      false,
    ]);
    writeKeys(keysFile, loaded.keys.bytes(), seenFile);
    expect(existsSync(seenFile)).toBe(false);
    // Three records: the partial last line is kept as a key, which no entry has.
    expect(readFileSync(keysFile).length).toBe(48);
    const next = loadKeys(keysFile, seenFile);
    expect([next.fromText, next.keys.has('msg_2:req_2')]).toEqual([false, true]);
  });

  it('lives beside the state file', () => {
    expect(keysPath('/s/import-state/claude-code-0123.json')).toBe('/s/import-state/claude-code-0123.keys');
    expect(seenPath('/s/import-state/claude-code-0123.json')).toBe('/s/import-state/claude-code-0123.seen');
  });
});

describe('loadState', () => {
  it('round-trips a saved state and still reads the keys an older version kept inside it', () => {
    const path = join(dir, 'state.json');
    saveState(path, { version: 1, files: { '/x.jsonl': { offset: 3, fingerprint: '3:ab', size: 3 } } });
    expect(loadState(path).files['/x.jsonl']).toEqual({ offset: 3, fingerprint: '3:ab', size: 3 });
    writeFileSync(path, JSON.stringify({ version: 1, files: {}, seen: ['m:r'] }));
    expect(loadState(path).seen).toEqual(['m:r']);
  });
});
