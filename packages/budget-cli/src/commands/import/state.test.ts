import { appendFileSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  appendSeen,
  fingerprint,
  loadSeen,
  loadState,
  saveState,
  seenPath,
  statFacts,
  unchangedSince,
  writeSeen,
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
  it('gives back every key appended or written, once each, whatever the batches', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.stringMatching(/^msg_[0-9a-f]{1,8}:req_[0-9a-f]{1,8}$/), { maxLength: 20 }), {
          maxLength: 8,
        }),
        (batches) => {
          const path = join(dir, `seen-${Math.random().toString(36).slice(2)}.seen`);
          for (const b of batches) appendSeen(path, b);
          expect(loadSeen(path)).toEqual(new Set(batches.flat()));
          writeSeen(path, ['only']);
          expect(loadSeen(path)).toEqual(new Set(['only']));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('reads a missing file as empty and ignores a partial last line', () => {
    expect(loadSeen(join(dir, 'none.seen')).size).toBe(0);
    const path = join(dir, 'partial.seen');
    writeFileSync(path, 'msg_1:req_1\nmsg_2:re');
    expect(loadSeen(path).has('msg_1:req_1')).toBe(true);
    expect(loadSeen(path).has('msg_2:req_2')).toBe(false);
  });

  it('lives beside the state file', () => {
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
