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

// About 3,000 usage entries: more than one batch of the importer, so a kill can land between commits
// (and, against a service, while two batches are in flight).
const CORPUS_MB = 12;
// Starting PGlite, importing and reporting several times on the shared 2-core machine.
const TIMEOUT_MS = 600_000;

const tmp = mkdtempSync(join(tmpdir(), 'mosaic-import-crash-'));
const logs = join(tmp, 'logs');

const envFor = (name: string): NodeJS.ProcessEnv => importEnv(tmp, name);

const setArgs = subscriptionArgs('max-a', ['claude-opus-4', 'claude-sonnet-4', 'claude-haiku-4']);
const importLogs = importArgs(logs);

/** Starts an import and SIGKILLs it as soon as its first batch is recorded. */
function importKilledAfterFirstCommit(target: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'budget', ...target, ...importLogs], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NO_COLOR: '1', ...env },
      stdio: 'ignore',
    });
    let killed = false;
    const stop = onFirstRecordedBatch(env, () => {
      killed = child.kill('SIGKILL');
    });
    child.on('exit', () => {
      stop();
      resolve(killed);
    });
  });
}

beforeAll(async () => {
  await ensureBuilt();
  generateTranscripts(logs, CORPUS_MB, 3);
}, TIMEOUT_MS);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Where one ledger lives: the global flags that reach it, and how to stop it. */
interface Ledger {
  target: string[];
  close: () => void;
}

const modes: { name: string; key: string; open: (name: string) => Promise<Ledger> }[] = [
  {
    name: 'in local mode (embedded database)',
    key: 'local',
    open: (name) => Promise.resolve({ target: ['--data-dir', join(tmp, name)], close: () => undefined }),
  },
  {
    // Against a service the importer keeps two batches in flight; the kill can land between them.
    name: 'against a running service',
    key: 'remote',
    open: async (name) => {
      const served: Served = await serve(join(tmp, `${name}-served`), envFor(name));
      return {
        target: ['--api', served.url, '--token', served.token],
        close: () => served.child.kill('SIGTERM'),
      };
    },
  },
];

describe.each(modes)('an import killed mid-way, $name', ({ key, open }) => {
  it(
    'loses nothing and counts nothing twice once run again: the ledger equals an uninterrupted import',
    async () => {
      const clean = await open(`${key}-clean`);
      const crashed = await open(`${key}-crashed`);
      try {
        expect((await mosaic([...clean.target, ...setArgs], envFor(`${key}-clean`))).code).toBe(0);
        const whole = await mosaic([...clean.target, ...importLogs], envFor(`${key}-clean`));
        expect(whole.code).toBe(0);
        const entries = (JSON.parse(whole.stdout) as { entries: number }).entries;

        expect((await mosaic([...crashed.target, ...setArgs], envFor(`${key}-crashed`))).code).toBe(0);
        expect(await importKilledAfterFirstCommit(crashed.target, envFor(`${key}-crashed`))).toBe(true);
        const resumed = await mosaic([...crashed.target, ...importLogs], envFor(`${key}-crashed`));
        expect(resumed.code).toBe(0);
        const r = JSON.parse(resumed.stdout) as { inserted: number; entries: number };
        // The resumed run wrote what the killed one had not, and nothing it had.
        expect(r.inserted).toBeLessThan(entries);

        const want = await mosaic([...clean.target, ...REPORT_ARGS], envFor(`${key}-clean`));
        const got = await mosaic([...crashed.target, ...REPORT_ARGS], envFor(`${key}-crashed`));
        const rows = (text: string): unknown => (JSON.parse(text) as { rows: unknown }).rows;
        expect(rows(got.stdout)).toEqual(rows(want.stdout));
        expect(rows(want.stdout)).not.toEqual([]);
      } finally {
        clean.close();
        crashed.close();
      }
    },
    TIMEOUT_MS,
  );
});
