import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function sharedBuffers(dataDir: string, settings?: Record<string, string>): Promise<string> {
  const database = await openDatabase({ dataDir, ...(settings ? { pgliteSettings: settings } : {}) });
  try {
    const r = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(database.db);
    return r.rows[0]?.shared_buffers ?? '';
  } finally {
    await database.close();
  }
}

describe('openDatabase pgliteSettings', () => {
  it('apply to that start only and leave the data directory as it was', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'budget-db-'));
    dirs.push(dataDir);
    const fresh = await sharedBuffers(dataDir);
    const conf = readFileSync(join(dataDir, 'pgdata', 'postgresql.conf'), 'utf8');
    expect(await sharedBuffers(dataDir, { shared_buffers: '16MB' })).toBe('16MB');
    expect(readFileSync(join(dataDir, 'pgdata', 'postgresql.conf'), 'utf8')).toBe(conf);
    expect(await sharedBuffers(dataDir)).toBe(fresh);
  });
});
