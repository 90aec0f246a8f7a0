import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ensureBuilt, FIXTURES, mosaic, subscriptionArgs } from '../test-support/cli-process.js';

// Test 6 (CLI half): hostile flag values and corrupted import files. The CLI answers with a clear
// message and an exit status, never a stack trace or a crash, and imports what is readable.
const tmp = mkdtempSync(join(tmpdir(), 'mosaic-cli-rel-'));
const dataDir = join(tmp, 'data');
const env = { HOME: tmp, MOSAIC_BUDGET_STATE_DIR: join(tmp, 'state'), MOSAIC_BUDGET_HOST: 'rel-host' };
const local = (args: string[]) => mosaic(['--data-dir', dataDir, ...args], env);
const STACK = /\n\s+at .+:\d+:\d+/;

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('the CLI under hostile input (spawned, local mode)', () => {
  it('answers junk flag values with a message and a non-crash exit, never a stack trace', async () => {
    const junk = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        '-1',
        '1e999',
        'NaN',
        '',
        '2026-02-30 25:00',
        '--',
        '%00',
        'x'.repeat(5000),
        '\u00e9\u0301',
        'Not/AZone',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        junk,
        junk,
        fc.constantFrom('--timezone', '--reset-at', '--kind', '--models', '--account'),
        async (a, b, flag) => {
          const r = await local([
            'set',
            '--account',
            a.replace(/^-+/, '') || 'x',
            '--provider',
            'anthropic',
            '--kind',
            'api',
            flag,
            b,
          ]);
          expect([0, 1, 2]).toContain(r.code);
          expect(r.stderr).not.toMatch(STACK);
          if (r.code !== 0) expect(r.stderr.trim().length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 6, seed: 61 },
    );
  }, 600_000);

  it('imports around truncated lines, wrong types, a 10 MB line and invalid UTF-8 without crashing', async () => {
    const set = await local([...subscriptionArgs('max-a', ['claude-sonnet-4-5']), '--timezone', 'UTC']);
    expect(set.code, set.stderr).toBe(0);
    const logs = join(tmp, 'claude');
    cpSync(join(FIXTURES, 'claude-code'), logs, { recursive: true });
    const bad = join(logs, 'projects', 'hostile-project');
    mkdirSync(bad, { recursive: true });
    const valid = JSON.stringify({
      sessionId: 'h1',
      requestId: 'req_h1',
      timestamp: '2026-11-21T10:00:00.000Z',
      type: 'assistant',
      message: {
        id: 'msg_h1',
        model: 'claude-sonnet-4-5-20250929',
        usage: { input_tokens: 5, output_tokens: 5 },
      },
    });
    writeFileSync(join(bad, 'truncated.jsonl'), `${valid}\n${valid.slice(0, 40)}`);
    writeFileSync(
      join(bad, 'types.jsonl'),
      `${JSON.stringify({ sessionId: 7, timestamp: 'yesterday', message: { id: [], model: 42, usage: { input_tokens: '-5', output_tokens: -1 } } })}\n`,
    );
    writeFileSync(join(bad, 'huge.jsonl'), `{"pad":"${'x'.repeat(10 * 1024 * 1024)}"}\n`);
    writeFileSync(
      join(bad, 'utf8.jsonl'),
      Buffer.concat([
        Buffer.from('{"sessionId":"'),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
        Buffer.from('"}\n'),
      ]),
    );
    const r = await local(['--json', 'import', 'claude-code', '--account', 'max-a', '--path', logs]);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      entries: number;
      malformed: number;
      files: number;
      malformedExamples: string[];
    };
    console.info(`[reliability:cli-import] ${JSON.stringify(summary)}`);
    expect(summary.files).toBe(6);
    // The fixture's 7 entries plus the one whole line before the truncated tail (a partial last line is
    // left for the next run, as a transcript still being written); the 10 MB line and the invalid UTF-8
    // line are not usage lines and are skipped; the wrong types are reported as malformed.
    expect(summary.entries).toBe(8);
    expect(summary.malformedExamples.some((m) => m.includes('types.jsonl'))).toBe(true);
  }, 600_000);
});
