import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One usage signal as the service's `POST /v1/usage-signals` takes it: strings on the wire. */
export interface WireSignal {
  account: string;
  window: string;
  usedPercent: string;
  resetAt?: string;
  confidence: string;
  observedAt: string;
  source?: string;
}

/** One line of a spool file: a signal and the tenant it is recorded for. */
export interface SpoolLine {
  v: 1;
  tenant: string;
  signal: WireSignal;
}

/** The spool's directory inside an embedded database's data directory. */
export function spoolDir(dataDir: string): string {
  return join(dataDir, 'statusline-spool');
}

/** The suffix of a spool file that waits to be drained. */
export const SPOOL_SUFFIX = '.jsonl';

/**
 * Spools signals for the embedded database without opening it: one new file per call, holding one
 * JSON line per signal, written under a dot-name and renamed into place so a drainer never sees it
 * half-written. Returns the file's path. This is the status line's hot path: two system calls and no
 * database (docs/decisions.md explains why one file per call rather than appends to one file).
 */
export function spoolSignals(dataDir: string, tenant: string, signals: WireSignal[]): string {
  const dir = spoolDir(dataDir);
  mkdirSync(dir, { recursive: true });
  // Time first so a listing drains in arrival order; pid and random bytes make the name unique.
  const name = `${Date.now()}-${process.pid}-${randomBytes(6).toString('hex')}${SPOOL_SUFFIX}`;
  const lines = signals.map((signal) => JSON.stringify({ v: 1, tenant, signal } satisfies SpoolLine));
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, `${lines.join('\n')}\n`, { mode: 0o600 });
  const path = join(dir, name);
  renameSync(tmp, path);
  return path;
}
