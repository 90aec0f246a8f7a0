import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, mosaic } from '../../test-support/cli-process.js';

// One short week of light demand keeps the spawned simulation well under a second of CPU.
const SCENARIO = {
  version: 1,
  seed: 5,
  start: '2026-11-27T17:00:00-06:00',
  end: '2026-12-04T17:00:00-06:00',
  timezone: 'America/Chicago',
  accounts: [
    {
      id: 'max-a',
      provider: 'anthropic',
      kind: 'subscription',
      models: ['claude-opus-4', 'claude-sonnet-4'],
      windows: [{ name: 'weekly', length: 'P7D', resetAt: '2026-12-04T17:00:00-06:00', truthUsd: '100' }],
    },
  ],
  generators: [
    {
      taskClass: 'feature',
      model: 'claude-opus-4',
      ratePerHour: 1,
      activeHours: '09:00-17:00',
      days: 'Mon-Fri',
      tokens: { median: 120000, p90: 300000 },
    },
  ],
};

describe('mosaic budget simulate (spawned)', () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'mosaic-sim-'));
    writeFileSync(join(dir, 'week.json'), JSON.stringify(SCENARIO));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...SCENARIO, end: '2026-11-01T00:00:00Z' }));
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the report as JSON and writes the pace chart', async () => {
    const chart = join(dir, 'pace.svg');
    const r = await mosaic(['simulate', join(dir, 'week.json'), '--json', '--chart', chart], {});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { runs: { strategy: string; windows: { complete: boolean }[] }[] };
    expect(report.runs.map((x) => x.strategy)).toEqual(['paced', 'greedy', 'static-daily-cap']);
    expect(report.runs[0]?.windows[0]?.complete).toBe(true);
    expect(existsSync(chart)).toBe(true);
    expect(readFileSync(chart, 'utf8')).toContain('max-a / weekly');
  }, 120_000);

  it('prints a table by default, limited to the strategies asked for', async () => {
    const r = await mosaic(['simulate', join(dir, 'week.json'), '--strategy', 'paced'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('max-a/weekly');
    expect(r.stdout).not.toContain('greedy');
  }, 120_000);

  it('exits 2 with a stable code on an invalid scenario, naming the field', async () => {
    const r = await mosaic(['simulate', join(dir, 'bad.json'), '--json'], {});
    expect(r.code).toBe(2);
    const body = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BUDGET_ERR_INVALID_SCENARIO');
    expect(body.error.message).toContain('end');
  }, 120_000);
});
