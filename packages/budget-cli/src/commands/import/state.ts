import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

export { seenPath, statePath, statFacts, unchangedSince } from './state-path.js';

const fileStateSchema = z.object({
  offset: z.number().int().nonnegative(),
  fingerprint: z.string(),
  /** Codex parser state at `offset` (model and previous cumulative total). */
  parser: z.record(z.string(), z.unknown()).optional(),
  /** The file's size, mtime and inode when it was read up to `offset`: unchanged ones are not opened. */
  size: z.number().int().nonnegative().optional(),
  mtimeMs: z.number().optional(),
  ino: z.number().optional(),
});

const importStateSchema = z.object({
  version: z.literal(1),
  files: z.record(z.string(), fileStateSchema),
  /**
   * Dedupe keys written by earlier versions, which kept them here and rewrote them all on every save;
   * they now live in the append-only file beside the state ({@link seenPath}) and are moved there once.
   */
  seen: z.array(z.string()).optional(),
});

/** How far each log file has been imported. */
export type ImportState = z.infer<typeof importStateSchema>;
/** One file's entry in {@link ImportState}. */
export type FileState = z.infer<typeof fileStateSchema>;

// The fingerprint covers the first bytes of a file: a rewritten or replaced file differs there even
// when it has grown past the remembered offset.
const FINGERPRINT_BYTES = 4096;

/** A hash of the first min(upTo, 4096) bytes of a file, to notice a file rewritten under the same name. */
export function fingerprint(path: string, upTo: number): string {
  const n = Math.min(upTo, FINGERPRINT_BYTES);
  const buf = Buffer.alloc(n);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, n, 0);
  } finally {
    closeSync(fd);
  }
  return `${n}:${createHash('sha256').update(buf).digest('hex').slice(0, 32)}`;
}

/** Reads the state; a missing or unreadable file means "nothing imported yet" (imports are idempotent). */
export function loadState(path: string): ImportState {
  try {
    return importStateSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return { version: 1, files: {} };
  }
}

/**
 * The dedupe keys of every entry already in the ledger (one per line). A crash while appending can
 * leave a partial last line; it never equals a real key, so it is harmless.
 */
export function loadSeen(path: string): Set<string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return new Set();
  }
  const seen = new Set<string>();
  for (const key of text.split('\n')) if (key !== '') seen.add(key);
  return seen;
}

/**
 * Adds keys whose entries the ledger now holds. Appending costs what was added, where rewriting the
 * whole set on every batch (as the state file once did) grew with the square of the history.
 */
export function appendSeen(path: string, keys: string[]): void {
  if (keys.length === 0) return;
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${keys.join('\n')}\n`);
}

/** Replaces the dedupe file with `keys` atomically (after --full, or to move keys out of the state). */
export function writeSeen(path: string, keys: Iterable<string>): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  let text = '';
  for (const k of keys) text += `${k}\n`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes the state atomically (write then rename), so a crash never leaves half a file. */
export function saveState(path: string, state: ImportState): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, path);
}
