import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { FINGERPRINT_BYTES as KEY_BYTES, KeySet } from './key-set.js';

export { keysPath, seenPath, statePath, statFacts, unchangedSince } from './state-path.js';

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
   * they now live in the append-only file beside the state ({@link keysPath}) and are moved there once.
   */
  seen: z.array(z.string()).optional(),
});

/** How far each log file has been imported. */
export type ImportState = z.infer<typeof importStateSchema>;
/** One file's entry in {@link ImportState}. */
export type FileState = z.infer<typeof fileStateSchema>;

// The fingerprint covers the first bytes of a file: a rewritten or replaced file differs there even
// when it has grown past the remembered offset.
const FILE_HEAD_BYTES = 4096;

/** A hash of the first min(upTo, 4096) bytes of a file, to notice a file rewritten under the same name. */
export function fingerprint(path: string, upTo: number): string {
  const n = Math.min(upTo, FILE_HEAD_BYTES);
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

/** The dedupe keys already in the ledger, and whether they came from an older version's text file. */
export interface LoadedKeys {
  keys: KeySet;
  /** True when they were read from the `.seen` text file: the first save writes them to `.keys`. */
  fromText: boolean;
}

/**
 * The dedupe keys of every entry already in the ledger: the `.keys` file of fingerprints, else the
 * `.seen` text file an older version kept (one key per line), else none. A crash while appending can
 * leave a partial last record; it is cut off here, so that the next append starts on a record's
 * boundary (and a partial last line of a text file never equals a real key).
 */
export function loadKeys(keysFile: string, seenFile: string): LoadedKeys {
  let bytes: Buffer | undefined;
  try {
    bytes = readFileSync(keysFile);
  } catch {
    bytes = undefined;
  }
  if (bytes !== undefined) {
    const whole = bytes.length - (bytes.length % KEY_BYTES);
    if (whole !== bytes.length) truncateSync(keysFile, whole);
    return { keys: KeySet.fromBytes(bytes.subarray(0, whole)), fromText: false };
  }
  let text: string;
  try {
    text = readFileSync(seenFile, 'utf8');
  } catch {
    return { keys: new KeySet(), fromText: false };
  }
  const keys = new KeySet();
  for (const key of text.split('\n')) if (key !== '') keys.add(key);
  return { keys, fromText: true };
}

/**
 * Adds keys whose entries the ledger now holds. Appending costs what was added, where rewriting the
 * whole set on every batch (as the state file once did) grew with the square of the history.
 */
export function appendKeys(path: string, keys: readonly string[]): void {
  if (keys.length === 0) return;
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, KeySet.bytesOf(keys));
}

/**
 * Replaces the keys file with `bytes` ({@link KeySet.bytes}) atomically — after --full, or to move
 * keys out of an older version's files — then removes the `.seen` text file, whose keys it now holds.
 */
export function writeKeys(path: string, bytes: Uint8Array, seenFile: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  rmSync(seenFile, { force: true });
}

/** Writes the state atomically (write then rename), so a crash never leaves half a file. */
export function saveState(path: string, state: ImportState): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, path);
}
