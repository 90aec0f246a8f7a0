import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import envPaths from 'env-paths';
import type { Connection } from '../../transport/resolve.js';

// Nothing here loads zod or the core: an import with nothing new is answered from these alone.

/** What the state remembers of a file that tells it unchanged (a structural part of `FileState`). */
export interface StatFacts {
  offset: number;
  size?: number | undefined;
  mtimeMs?: number | undefined;
  ino?: number | undefined;
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

/** The stat facts the state keeps to tell an unchanged file without opening it. */
export function statFacts(st: Stats): { size: number; mtimeMs: number; ino: number } {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

/**
 * Whether a file is exactly as it was when its state was saved: same size, modification time and
 * inode. Such a file has nothing new (its bytes past `offset`, if any, are an unfinished last line
 * that is still unfinished), so it needs neither reading nor fingerprinting.
 */
export function unchangedSince(held: StatFacts | undefined, st: Stats): boolean {
  return (
    held !== undefined &&
    held.size === st.size &&
    held.mtimeMs === st.mtimeMs &&
    held.ino === st.ino &&
    held.offset <= st.size
  );
}

/** The append-only file of dedupe-key fingerprints beside a state file (see key-set.ts). */
export function keysPath(statefile: string): string {
  return statefile.replace(/\.json$/, '') + '.keys';
}

/** Where versions before the `.keys` file kept the dedupe keys as text, one per line; read once to move them. */
export function seenPath(statefile: string): string {
  return statefile.replace(/\.json$/, '') + '.seen';
}

/**
 * Where the imported records go, named as the transport names it (`remote:<url>` or
 * `local:<data dir>`), without opening it: local mode's data directory defaults as the service's
 * `defaultDataDir()` does, which is not imported here because loading the service is what an
 * import with nothing new avoids.
 */
export function destinationOf(c: Connection): string {
  if (c.api) return `remote:${c.api.replace(/\/+$/, '')}`;
  return `local:${c.dataDir ?? envPaths('mosaic-budget', { suffix: '' }).data}`;
}
