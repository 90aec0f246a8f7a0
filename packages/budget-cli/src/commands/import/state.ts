import { createHash } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, readSync, closeSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import envPaths from 'env-paths';
import { z } from 'zod';

const fileStateSchema = z.object({
  offset: z.number().int().nonnegative(),
  fingerprint: z.string(),
  /** Codex parser state at `offset` (model and previous cumulative total). */
  parser: z.record(z.string(), z.unknown()).optional(),
});

const importStateSchema = z.object({
  version: z.literal(1),
  files: z.record(z.string(), fileStateSchema),
  /** Claude Code dedupe keys already sent (ccusage's message.id:requestId), so a later copy is skipped. */
  seen: z.array(z.string()).default([]),
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

/**
 * Where the state of imports into one destination lives: per source, service (or data directory)
 * and tenant, under the user's state dir, so importing into two registers never mixes offsets.
 */
export function statePath(
  source: string,
  destination: string,
  tenant: string,
  env: NodeJS.ProcessEnv,
): string {
  const base = env.MOSAIC_BUDGET_STATE_DIR ?? envPaths('mosaic-budget', { suffix: '' }).data;
  const id = createHash('sha256').update(`${destination}\n${tenant}`).digest('hex').slice(0, 16);
  return join(base, 'import-state', `${source}-${id}.json`);
}

/** Reads the state; a missing or unreadable file means "nothing imported yet" (imports are idempotent). */
export function loadState(path: string): ImportState {
  try {
    return importStateSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return { version: 1, files: {}, seen: [] };
  }
}

/** Writes the state atomically (write then rename), so a crash never leaves half a file. */
export function saveState(path: string, state: ImportState): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, path);
}
