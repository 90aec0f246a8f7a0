import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { firstTimestamp } from './first-timestamp.js';

const dir = mkdtempSync(join(tmpdir(), 'mosaic-first-timestamp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Lines of every size around the function's first read (8 KiB) and its limit (64 KiB): summaries
// without a timestamp, lines whose "timestamp" is not text, and lines with one, with multi-byte text.
const line = fc.oneof(
  fc
    .integer({ min: 0, max: 70_000 })
    .map((n) => JSON.stringify({ type: 'summary', summary: 'é'.repeat(n / 2) })),
  fc.integer({ min: 0, max: 9_000 }).map((n) => JSON.stringify({ timestamp: n, pad: 'x'.repeat(n) })),
  fc
    .tuple(fc.date({ noInvalidDate: true }), fc.integer({ min: 0, max: 9_000 }))
    .map(([d, n]) => JSON.stringify({ pad: 'é'.repeat(n), timestamp: d.toISOString(), type: 'user' })),
);

/** What the function promises: the first text timestamp wholly inside the first 64 KiB. */
function expected(bytes: Buffer): string {
  const m = /"timestamp"\s*:\s*"([^"]+)"/.exec(bytes.subarray(0, 65_536).toString('latin1'));
  return m?.[1] ?? '9999';
}

let fileNo = 0;

describe('firstTimestamp', () => {
  it('finds the first timestamp in the first 64 KiB wherever it lies, and nothing from an earlier file', () => {
    // The files are read one after another into one buffer: a file shorter than the one before must
    // not find the earlier file's bytes.
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), (lines) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
        const path = join(dir, `f${fileNo++}.jsonl`);
        writeFileSync(path, bytes);
        expect(firstTimestamp(path)).toBe(expected(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('reads a timestamp that begins before the first read ends and finishes after it', () => {
    const ts = '2026-11-24T09:00:00.000Z';
    const key = '{"timestamp":"';
    // The key starts 10 bytes before the 8 KiB mark, so its value is cut by the first read.
    const pad = 'x'.repeat(8192 - 10 - '{"pad":""}\n'.length);
    const text = `${JSON.stringify({ pad })}\n${key}${ts}"}\n`;
    const path = join(dir, 'straddle.jsonl');
    writeFileSync(path, text);
    expect(Buffer.from(text).indexOf(key)).toBe(8192 - 10);
    expect(firstTimestamp(path)).toBe(ts);
  });
});
