import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readLines, type FileLine } from './line-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'mosaic-line-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// JSON lines of every size around the reader's 256 KiB chunk, with multi-byte characters so that
// byte offsets and character counts differ.
const jsonLine = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.integer({ min: 200_000, max: 600_000 }).map((n) => 'é'.repeat(n / 2)),
  )
  .map((s) => JSON.stringify({ s }));

async function readAll(path: string, start: number, size: number, mark?: string): Promise<FileLine[]> {
  const out: FileLine[] = [];
  for await (const lines of readLines(path, start, size, mark === undefined ? {} : { mark }))
    out.push(...lines);
  return out;
}

// Lines for the mark: JSON objects with and without it (also at either end, and long enough to cross
// the 256 KiB chunk), padded with whitespace, and lines that are not objects, with and without it.
const MARK = 'usage';
const markLine = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('', 'usage', 'usag', 'sage', 'us\\u0061ge'),
      fc.integer({ min: 0, max: 300_000 }),
      fc.constantFrom('', ' ', '\r', ' \t'),
    )
    .map(
      ([word, n, pad]) =>
        `${pad}${JSON.stringify({ [word || 'k']: 'é'.repeat(n % 7 === 0 ? n : n % 50) })}${pad}`,
    ),
  fc.constantFrom('', ' ', '{', '}', '{"usage":1', '"usage"}', '[{}]', '{"cut":"ab', 'not json usage', '{}'),
);

let fileNo = 0;

describe('readLines', () => {
  it('yields every complete line with its byte offsets, from any line start, and a complete last line without newline', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(jsonLine, { maxLength: 8 }),
        fc.constantFrom('none', 'complete', 'partial'),
        fc.nat(),
        async (lines, tail, pick) => {
          const body = lines.map((l) => `${l}\n`).join('');
          const last = tail === 'complete' ? '{"last":true}' : tail === 'partial' ? '{"last":tr' : '';
          const bytes = Buffer.from(body + last, 'utf8');
          const path = join(dir, `f${fileNo++}.jsonl`);
          writeFileSync(path, bytes);
          const starts = [0];
          for (const l of lines) starts.push((starts.at(-1) as number) + Buffer.byteLength(l) + 1);
          const from = pick % (lines.length + 1);
          const got = await readAll(path, starts[from] as number, bytes.length);
          const want = lines.slice(from).map((text, i) => ({
            text,
            offset: starts[from + i] as number,
            end: starts[from + i + 1] as number,
          }));
          if (tail === 'complete')
            want.push({ text: last, offset: Buffer.byteLength(body), end: bytes.length });
          expect(got).toEqual(want);
          for (const l of got)
            expect(bytes.subarray(l.offset, l.end).toString('utf8').trimEnd()).toBe(l.text);
          rmSync(path);
        },
      ),
      { numRuns: 60, seed: 20261202 },
    );
  });

  it('passes over the object lines without the mark undecoded, and yields every other line whole', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(markLine, { maxLength: 8 }), fc.nat(), async (lines, pick) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
        const path = join(dir, `m${fileNo++}.jsonl`);
        writeFileSync(path, bytes);
        const starts = [0];
        for (const l of lines) starts.push((starts.at(-1) as number) + Buffer.byteLength(l) + 1);
        const from = pick % (lines.length + 1);
        const got = await readAll(path, starts[from] as number, bytes.length, MARK);
        const want = lines.slice(from).map((text, i) => {
          const at = { offset: starts[from + i] as number, end: starts[from + i + 1] as number };
          const t = text.trim();
          const passed = !text.includes(MARK) && t.length >= 2 && t.startsWith('{') && t.endsWith('}');
          return passed ? { text: '', ...at, unmarked: true } : { text, ...at };
        });
        expect(got).toEqual(want);
        rmSync(path);
      }),
      { numRuns: 80, seed: 20261202 },
    );
  });

  it('reads only up to the size it is given, and nothing when the start is at or past it', async () => {
    const path = join(dir, 'sized.jsonl');
    writeFileSync(path, '{"a":1}\n{"b":2}\n{"c":3}\n');
    expect((await readAll(path, 0, 16)).map((l) => l.text)).toEqual(['{"a":1}', '{"b":2}']);
    expect(await readAll(path, 16, 16)).toEqual([]);
    expect(await readAll(path, 20, 16)).toEqual([]);
  });

  it('closes the file when the caller stops early', async () => {
    const path = join(dir, 'early.jsonl');
    writeFileSync(path, '{"a":1}\n'.repeat(100_000));
    const openFiles = (): number => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const it = readLines(path, 0, 800_000);
    expect((await it.next()).done).toBe(false);
    expect(openFiles()).toBe(before + 1);
    // return() runs the generator's finally, which closes the file.
    expect((await it.return(undefined)).done).toBe(true);
    expect(openFiles()).toBe(before);
  });
});
