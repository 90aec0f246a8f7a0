import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '@mosaic/budget-api';
import { drainSpool, describeDrain, type SpoolSink } from './drain.js';
import { registerSink, type ServiceApp } from './sink.js';
import { spoolDir, spoolSignals, type WireSignal } from './write.js';

// A real embedded register: the drain writes through the service's own route into PGlite.
const tmp = mkdtempSync(join(tmpdir(), 'mosaic-spool-'));
const dataDir = join(tmp, 'data');
let database: api.Database;
let app: ServiceApp;
let sink: SpoolSink;
let closeSink: () => Promise<void>;

// Enough spool files that concurrent drains interleave their claims, few enough for a slow machine.
const FILES = 24;

function signal(window: string, minute: number, used: string): WireSignal {
  return {
    account: 'max-a',
    window,
    usedPercent: used,
    confidence: 'provider',
    observedAt: new Date(Date.UTC(2026, 10, 20, 0, minute)).toISOString(),
    source: 'statusline',
  };
}

async function signalRows(): Promise<number> {
  const row = await database.db
    .selectFrom('fleet.usage_signals')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('tenant_id', '=', 'default')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function spoolLeft(): string[] {
  return readdirSync(spoolDir(dataDir));
}

beforeAll(async () => {
  database = await api.openDatabase({ dataDir });
  await api.migrate(database.db);
  await api.ensureTenant(database.db, 'default');
  app = await api.buildApp({
    database,
    localPrincipal: { tenantId: 'default', scopes: ['admin'] },
    background: false,
  });
  const put = await app.inject({
    method: 'PUT',
    url: '/v1/accounts/max-a',
    payload: {
      provider: 'anthropic',
      kind: 'subscription',
      models: ['claude-sonnet-4-5'],
      windows: [
        { name: 'session', length: 'PT5H', rolling: true },
        { name: 'weekly', length: 'P7D' },
      ],
    },
  });
  expect(put.statusCode).toBeLessThan(300);
  ({ sink, close: closeSink } = registerSink(api, database, new Map([['default', app]])));
}, 120_000);

afterAll(async () => {
  await closeSink();
  await app.close();
  await database.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the status-line spool', { timeout: 120_000 }, () => {
  it('lands every spooled signal exactly once when three drains race', async () => {
    const before = await signalRows();
    for (let i = 0; i < FILES; i++) {
      spoolSignals(dataDir, 'default', [signal('session', i, `${i}`), signal('weekly', i, `${i / 2}`)]);
    }
    const reports = await Promise.all([
      drainSpool(dataDir, sink),
      drainSpool(dataDir, sink),
      drainSpool(dataDir, sink),
    ]);
    expect(reports.reduce((n, r) => n + r.files, 0)).toBe(FILES);
    expect(reports.reduce((n, r) => n + r.landed, 0)).toBe(2 * FILES);
    expect((await signalRows()) - before).toBe(2 * FILES);
    expect(spoolLeft()).toEqual([]);
    // A drain after the race finds nothing left to send.
    expect((await drainSpool(dataDir, sink)).files).toBe(0);
    expect((await signalRows()) - before).toBe(2 * FILES);
  });

  it('reports and skips a corrupt line, and still lands the good ones of the same file', async () => {
    const before = await signalRows();
    const path = spoolSignals(dataDir, 'default', [signal('session', 100, '5')]);
    appendFileSync(path, '{"v":1,"tenant":"default","signal":{"account":"max-a"\n');
    appendFileSync(
      path,
      `${JSON.stringify({ v: 1, tenant: 'default', signal: signal('weekly', 100, '7') })}\n`,
    );
    appendFileSync(
      path,
      `${JSON.stringify({ v: 1, tenant: 'default', signal: { ...signal('weekly', 101, 'x') } })}\n`,
    );
    const report = await drainSpool(dataDir, sink);
    expect(report.landed).toBe(2);
    expect(report.corrupt.map((c) => c.line)).toEqual([2, 4]);
    expect(report.corrupt[0]?.reason).toBe('not JSON');
    expect(describeDrain(report)[0]).toMatch(/skipped corrupt line 2 of .*: not JSON/);
    expect((await signalRows()) - before).toBe(2);
    expect(spoolLeft()).toEqual([]);
  });

  it('drops and reports a signal for a window the account does not have, landing the rest', async () => {
    const before = await signalRows();
    spoolSignals(dataDir, 'default', [signal('session', 200, '9'), signal('opus-week', 200, '3')]);
    const report = await drainSpool(dataDir, sink);
    expect(report.landed).toBe(1);
    expect(report.rejected).toHaveLength(1);
    expect(report.rejected[0]?.reason).toContain('opus-week');
    expect((await signalRows()) - before).toBe(1);
  });

  it('keeps signals in the spool when the register is unavailable, and lands them later', async () => {
    const before = await signalRows();
    spoolSignals(dataDir, 'default', [signal('weekly', 300, '11')]);
    const down: SpoolSink = () => Promise.resolve({ status: 'unavailable', message: 'database down' });
    const report = await drainSpool(dataDir, down);
    expect(report.deferred).toBe(1);
    expect(spoolLeft()).toHaveLength(1);
    expect((await drainSpool(dataDir, sink)).landed).toBe(1);
    expect((await signalRows()) - before).toBe(1);
  });

  it('claims again a file whose drainer died mid-drain, and ignores a file still being written', async () => {
    const before = await signalRows();
    const path = spoolSignals(dataDir, 'default', [signal('session', 400, '13')]);
    // pid 2^22 + 1 is above Linux's pid_max default: no such process runs.
    const { renameSync } = await import('node:fs');
    renameSync(path, `${path}.claimed-4194305-deadbeef`);
    writeFileSync(join(spoolDir(dataDir), '.half-written.jsonl.tmp'), '{"v":1');
    const report = await drainSpool(dataDir, sink);
    expect(report.landed).toBe(1);
    expect(report.corrupt).toEqual([]);
    expect((await signalRows()) - before).toBe(1);
    expect(spoolLeft()).toEqual(['.half-written.jsonl.tmp']);
  });
});
