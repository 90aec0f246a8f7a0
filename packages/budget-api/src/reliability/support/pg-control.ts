import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './rng.js';

// Restarting the machine's PostgreSQL breaks every other test using it, so only one such test runs
// at a time (a lock directory), and it runs in its own vitest invocation after the main suite.
const LOCK = join(tmpdir(), 'mosaic-pg-restart.lock');

function cluster(action: 'start' | 'stop' | 'restart'): Promise<void> {
  const version = readdirSync('/etc/postgresql')[0] ?? '15';
  return new Promise((resolve, reject) => {
    execFile(
      'pg_ctlcluster',
      ['--skip-systemctl-redirect', version, 'main', action, ...(action === 'stop' ? ['-m', 'fast'] : [])],
      { timeout: 120_000 },
      (error, stdout, stderr) =>
        error && !/already running|is not running/.test(stderr)
          ? reject(new Error(`pg_ctlcluster ${action}: ${stderr}${stdout}`))
          : resolve(),
    );
  });
}

/** Whether the server accepts connections (pg_isready). */
export function pgReady(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q'], { timeout: 10_000 }, (error) =>
      resolve(!error),
    );
  });
}

/** Starts the server (idempotent) and waits until it accepts connections. */
export async function ensurePgUp(): Promise<void> {
  if (await pgReady()) return;
  await cluster('start');
  for (let i = 0; i < 120 && !(await pgReady()); i++) await sleep(500);
}

/** Takes the restart lock (waiting for another holder; a lock older than 10 minutes is stale). */
export async function lockRestarts(): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch {
      const held = statSync(LOCK, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 600_000) rmSync(LOCK, { recursive: true, force: true });
      await sleep(1_000);
    }
  }
}

/** Stops the server (fast shutdown: open connections are cut, as in a crash of the database host). */
export function stopPg(): Promise<void> {
  return cluster('stop');
}
