import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OutputContext } from '../../context.js';
import { resolveConnection } from '../../transport/resolve.js';
import { claudeCodeDirs, codexDirs, findJsonl } from './files.js';
import { destinationOf, statePath, unchangedSince, type StatFacts } from './state-path.js';
import { emptySummary, type ImportSummary } from './summary.js';

// The flag rules of idSchema and labelSchema (budget-core ids.ts), checked by hand: loading zod and
// the core costs more than the rest of an import with nothing new. This check only ever decides that
// flags are certainly valid; anything else goes the full way, where the schemas judge and explain.
// quick.test.ts checks that it accepts nothing the schemas refuse.
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
// eslint-disable-next-line no-control-regex
const LABEL = /^[^\u0000-\u001f\u007f]+$/;

/** Whether `v` is certainly an id (idSchema would accept it). */
export function surelyId(v: unknown): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= 128 && ID.test(v);
}

/** Whether `v` is certainly a label (labelSchema would accept it). */
export function surelyLabel(v: unknown): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= 256 && LABEL.test(v);
}

function surelyValid(raw: Record<string, unknown>): boolean {
  const optional = (v: unknown, ok: (x: unknown) => boolean): boolean => v === undefined || ok(v);
  const known = new Set(['account', 'path', 'agent', 'host', 'mission', 'taskClass', 'full']);
  return (
    Object.keys(raw).every((k) => known.has(k)) &&
    surelyId(raw.account) &&
    surelyLabel(raw.agent) &&
    surelyId(raw.taskClass) &&
    optional(raw.host, surelyLabel) &&
    optional(raw.mission, surelyLabel) &&
    optional(raw.path, (p) => Array.isArray(p) && p.every((s) => typeof s === 'string' && s.length > 0)) &&
    raw.full === undefined
  );
}

/** The saved facts of one file, when the state file holds them in the expected shape. */
function factsOf(files: Record<string, unknown>, file: string): StatFacts | undefined {
  const f = files[file] as Record<string, unknown> | undefined;
  if (typeof f !== 'object' || f === null) return undefined;
  const { offset, size, mtimeMs, ino } = f;
  if (typeof offset !== 'number' || typeof size !== 'number') return undefined;
  if (typeof mtimeMs !== 'number' || typeof ino !== 'number') return undefined;
  return { offset, size, mtimeMs, ino };
}

// The bin's quick path and the full command live in separate bundles, so the one tells the other
// through a registered symbol that it has already checked the metadata (see {@link markChecked}).
const CHECKED = Symbol.for('mosaic-budget.import.metadata-checked');

/**
 * Records, for the rest of this process, that the import of `source` was checked by
 * {@link nothingNew} and may have something to do: the full command that then runs need not walk
 * the folders and read the state a second time only to find the same. Whatever it would have
 * answered, the full import answers too (it returns the empty summary before opening anything when
 * no file changed), so this only saves the repeat (~15 ms).
 */
export function markChecked(source: 'claude-code' | 'codex'): void {
  (globalThis as Record<symbol, unknown>)[CHECKED] = source;
}

/** Whether {@link markChecked} was called for `source` in this process. */
export function checkedAlready(source: 'claude-code' | 'codex'): boolean {
  return (globalThis as Record<symbol, unknown>)[CHECKED] === source;
}

/**
 * The summary of an import with nothing new — every log file has the size, modification time and
 * inode its state recorded after the last commit — or undefined when there may be something to do
 * (or anything is unusual: the full import then decides, validates and explains). Reads no log byte
 * and opens neither the service nor the embedded database; the ledger stays the judge of what was
 * imported, the state only says where reading stopped.
 */
export async function nothingNew(
  ctx: OutputContext,
  source: 'claude-code' | 'codex',
  raw: Record<string, unknown>,
): Promise<ImportSummary | undefined> {
  if (!surelyValid(raw)) return undefined;
  const paths = ((raw.path as string[] | undefined) ?? []).map((p) => resolve(p));
  const dirs = source === 'claude-code' ? claudeCodeDirs(paths, ctx.env) : codexDirs(paths, ctx.env);
  if (paths.length && dirs.length === 0) return undefined;
  const files = [...new Set(dirs.flatMap(findJsonl))];
  const connection = await resolveConnection(ctx.globals, ctx.env);
  let saved: unknown;
  try {
    saved = JSON.parse(
      readFileSync(statePath(source, destinationOf(connection), connection.tenant, ctx.env), 'utf8'),
    );
  } catch {
    return undefined;
  }
  const held = (saved as { version?: unknown; files?: unknown } | null) ?? {};
  if (held.version !== 1 || typeof held.files !== 'object' || held.files === null) return undefined;
  const known = held.files as Record<string, unknown>;
  for (const file of files) {
    let st;
    try {
      st = statSync(file);
    } catch {
      return undefined;
    }
    if (!unchangedSince(factsOf(known, file), st)) return undefined;
  }
  return emptySummary(source, raw.account as string, files.length);
}
