import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  ROOT,
  ensureBuilt,
  generateTranscripts,
  importArgs,
  importEnv,
  mosaic,
  onFirstRecordedBatch,
  REPORT_ARGS,
  serve,
  subscriptionArgs,
  type Served,
} from '../../test-support/cli-process.js';

// About 7,000 usage entries: four batches of the importer, so the service dies with batches still to
// send and, most often, two in flight.
const CORPUS_MB = 28;
// Starting the service three times, importing and reporting on the shared 2-core machine.
const TIMEOUT_MS = 600_000;

const tmp = mkdtempSync(join(tmpdir(), 'mosaic-import-service-killed-'));
const logs = join(tmp, 'logs');
const servers: Served[] = [];

const envFor = (name: string): NodeJS.ProcessEnv => importEnv(tmp, name);
const importLogs = importArgs(logs);

async function started(name: string, token?: string): Promise<{ served: Served; remote: string[] }> {
  const served = await serve(join(tmp, `${name}-data`), envFor(name), token);
  servers.push(served);
  return { served, remote: ['--api', served.url, '--token', served.token] };
}

/** Runs an import and SIGKILLs the service as soon as the import's first batch is recorded. */
function importWhileServiceKilled(
  remote: string[],
  service: Served,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'budget', ...remote, ...importLogs], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NO_COLOR: '1', ...env },
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    let killed = false;
    const stop = onFirstRecordedBatch(env, () => {
      killed = service.child.kill('SIGKILL');
    });
    child.on('close', (code) => {
      stop();
      resolve({ code: code ?? -1, stdout, killed });
    });
  });
}

beforeAll(async () => {
  await ensureBuilt();
  generateTranscripts(logs, CORPUS_MB, 7);
}, TIMEOUT_MS);
afterAll(() => {
  for (const s of servers) s.child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('an import whose service is killed mid-way', () => {
  it(
    'stops saying the service is unreachable; once the service is back, a re-run leaves the ledger equal to an uninterrupted import',
    async () => {
      const set = subscriptionArgs('max-a', ['claude-opus-4', 'claude-sonnet-4', 'claude-haiku-4']);
      const report = async (remote: string[], name: string): Promise<unknown> => {
        const r = await mosaic([...remote, ...REPORT_ARGS], envFor(name));
        expect(r.code).toBe(0);
        return (JSON.parse(r.stdout) as { rows: unknown }).rows;
      };

      const clean = await started('clean');
      expect((await mosaic([...clean.remote, ...set], envFor('clean'))).code).toBe(0);
      const whole = await mosaic([...clean.remote, ...importLogs], envFor('clean'));
      expect(whole.code).toBe(0);
      const { entries } = JSON.parse(whole.stdout) as { entries: number };
      expect(entries).toBeGreaterThan(3 * 2000);

      const victim = await started('killed');
      expect((await mosaic([...victim.remote, ...set], envFor('killed'))).code).toBe(0);
      const cut = await importWhileServiceKilled(victim.remote, victim.served, envFor('killed'));
      expect(cut.killed).toBe(true);
      expect(cut.code).not.toBe(0);
      const error = (JSON.parse(cut.stdout) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('BUDGET_ERR_UNREACHABLE');

      // The same data directory, served again: what landed before the kill is there, the rest is not.
      const back = await started('killed', victim.served.token);
      const resumed = await mosaic([...back.remote, ...importLogs], envFor('killed'));
      expect(resumed.code).toBe(0);
      const r = JSON.parse(resumed.stdout) as { inserted: number };
      expect(r.inserted).toBeGreaterThan(0);
      expect(r.inserted).toBeLessThan(entries);

      const want = await report(clean.remote, 'clean');
      expect(want).not.toEqual([]);
      expect(await report(back.remote, 'killed')).toEqual(want);
    },
    TIMEOUT_MS,
  );
});
