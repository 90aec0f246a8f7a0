import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  generateTranscripts,
  importArgs,
  mosaic,
  REPORT_ARGS,
  serve,
  subscriptionArgs,
  type Served,
} from '../../test-support/cli-process.js';
import { findJsonl } from './files.js';

// About 3,000 usage entries: two batches of the importer, sent while one is still in flight.
const CORPUS_MB = 12;
const TIMEOUT_MS = 600_000;

const tmp = mkdtempSync(join(tmpdir(), 'mosaic-import-refused-'));
const logs = join(tmp, 'logs');
const env = { HOME: tmp, MOSAIC_BUDGET_STATE_DIR: join(tmp, 'state'), MOSAIC_BUDGET_HOST: 'h' };
let server: Served | undefined;

interface Row {
  timestamp?: string;
  requestId?: string;
  message?: { id?: string; usage?: { output_tokens: number } };
}

/**
 * Changes the output tokens of one usage line that the importer reads last (the newest file's last
 * entry whose request id appears nowhere else, so no earlier copy of it wins), keeping its message
 * and request ids: the same idempotency key with other content, which the ledger refuses.
 */
function alterLastEntry(): string {
  const files = findJsonl(logs).map((file) => {
    const lines = readFileSync(file, 'utf8').split('\n');
    const first = lines.map((l) => (l ? (JSON.parse(l) as Row).timestamp : undefined)).find(Boolean);
    return { file, lines, first: first ?? '' };
  });
  const all = files.map((f) => f.lines.join('\n')).join('\n');
  const newest = files.reduce((a, b) => (b.first > a.first ? b : a));
  for (let i = newest.lines.length - 1; i >= 0; i--) {
    const text = newest.lines[i];
    if (!text) continue;
    const row = JSON.parse(text) as Row;
    const usage = row.message?.usage;
    if (!usage || !row.requestId || !row.message?.id) continue;
    if (all.split(row.requestId).length !== 2) continue;
    usage.output_tokens += 1;
    newest.lines[i] = JSON.stringify(row);
    writeFileSync(newest.file, newest.lines.join('\n'));
    return row.requestId;
  }
  throw new Error('no entry to alter');
}

function errorOf(stdout: string): { code: string; message: string } {
  return (JSON.parse(stdout) as { error: { code: string; message: string } }).error;
}

beforeAll(async () => {
  await ensureBuilt();
  generateTranscripts(logs, CORPUS_MB, 5);
  server = await serve(join(tmp, 'served'), env);
}, TIMEOUT_MS);
afterAll(() => {
  server?.child.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
});

describe('an import whose batch the service refuses', () => {
  it(
    'stops with the service’s reason, writes nothing more, and refuses again next time rather than skip the line',
    async () => {
      const remote = ['--api', server?.url ?? '', '--token', server?.token ?? ''];
      const importLogs = [...remote, ...importArgs(logs)];
      const report = async (): Promise<unknown> => {
        const r = await mosaic([...remote, ...REPORT_ARGS], env);
        expect(r.code).toBe(0);
        return (JSON.parse(r.stdout) as { rows: unknown }).rows;
      };
      expect((await mosaic([...remote, ...subscriptionArgs('max-a', ['claude-sonnet-4'])], env)).code).toBe(
        0,
      );

      const first = await mosaic(importLogs, env);
      expect(first.code).toBe(0);
      const { entries } = JSON.parse(first.stdout) as { entries: number };
      // More than two batches' worth would also do; fewer than two would not exercise the pipeline.
      expect(entries).toBeGreaterThan(2000);
      const before = await report();

      const requestId = alterLastEntry();
      // --full forgets the offsets and the dedupe keys: every line is sent again, the altered one last.
      const refused = await mosaic([...importLogs, '--full'], env);
      expect(refused.code).not.toBe(0);
      // With --json the error is the JSON document on stdout, naming the key the ledger holds.
      expect(errorOf(refused.stdout).code).toBe('BUDGET_ERR_IDEMPOTENCY_CONFLICT');
      expect(errorOf(refused.stdout).message).toContain(requestId);
      expect(await report()).toEqual(before);

      // The refused batch's keys and offsets were not recorded, so each later run reads it again and
      // meets the same refusal instead of skipping the changed line.
      for (const run of [1, 2]) {
        const again = await mosaic(importLogs, env);
        expect(again.code, `run ${run} after the refusal`).not.toBe(0);
        expect(errorOf(again.stdout).message).toContain(requestId);
      }
      expect(await report()).toEqual(before);
    },
    TIMEOUT_MS,
  );
});
