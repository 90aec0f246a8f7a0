import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BudgetApiError } from '../errors.js';

/** Who holds a data directory's lock, as written in its lock file. */
export interface LockHolder {
  pid: number;
  command: string;
  hostname: string;
  startedAt: string;
  /** The URL the holder serves the register on, once a `serve` listens (absent otherwise). */
  url?: string;
}

/** A held data directory lock; `release()` removes the lock file if it is still ours. */
export interface DataDirLock {
  path: string;
  release(): void;
}

const LOCK_FILE = 'mosaic-budget.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else; it still holds the directory.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    // A half-written or unreadable lock file: treat as stale so a crash mid-write cannot wedge the directory.
    return undefined;
  }
}

/**
 * Takes an exclusive lock on a PGlite data directory: PGlite does not guard its files, and two
 * processes opening one directory silently lose committed rows. The lock is a file created with
 * O_EXCL holding the holder's pid and command; a lock whose pid no longer runs on this host is stale
 * and taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    command: process.argv.join(' ').slice(0, 500),
    hostname: hostname(),
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      const stale = !holder || (holder.hostname === me.hostname && !isAlive(holder.pid));
      if (stale) {
        try {
          unlinkSync(path);
        } catch {
          // Another process removed it first; retry the exclusive create.
        }
        continue;
      }
      throw new BudgetApiError(
        'BUDGET_ERR_DATA_DIR_LOCKED',
        `the data directory ${dataDir} is in use by pid ${holder.pid} (${holder.command}) on ${holder.hostname} since ${holder.startedAt}; stop it, or talk to the running service with --url`,
        { extra: { holder } },
      );
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      process.off('exit', release);
      if (readHolder(path)?.pid === me.pid) {
        try {
          unlinkSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      }
    };
    process.on('exit', release);
    return { path, release };
  }
  throw new BudgetApiError('BUDGET_ERR_DATA_DIR_LOCKED', `could not lock the data directory ${dataDir}`);
}

/**
 * Adds the URL this process serves on to the lock it holds on `dataDir`, so that a command refused by
 * the lock can say where to send its requests instead. Returns false, changing nothing, when this
 * process does not hold the lock. The file is replaced by a rename, never rewritten in place: a reader
 * that saw half a file would take the lock for stale.
 */
export function recordLockUrl(dataDir: string, url: string): boolean {
  const path = join(dataDir, LOCK_FILE);
  const holder = readHolder(path);
  if (holder?.pid !== process.pid) return false;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...holder, url } satisfies LockHolder), { mode: 0o600 });
  renameSync(tmp, path);
  return true;
}
